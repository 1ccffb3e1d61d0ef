package timesvc

import (
	"github.com/oemkit/messenger/feature/settings"

	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"
)

// chronyNonce is the transmit timestamp sent for testdata/chrony-4.3-reply.bin,
// a reply captured from chronyd 4.3 (local stratum 10).
const chronyNonce Timestamp = 0x0123456789abcdef

func chronyReply(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/chrony-4.3-reply.bin")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, s := range []string{
		"1968-01-20T03:14:08Z", // start of era 0's top-bit half
		"1970-01-01T00:00:00Z",
		"2020-01-01T00:00:00.5Z",
		"2026-12-03T08:39:44.123456789Z",
		"2036-02-07T06:28:15Z", // last second of era 0
		"2036-02-07T06:28:16Z", // first second of era 1
		"2100-03-01T12:00:00.25Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got := ToTimestamp(want).Time()
		if d := got.Sub(want); d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("ToTimestamp(%s).Time() = %s, want within 1 ns", s, got.Format(time.RFC3339Nano))
		}
	}
	if got := Timestamp(0x80000000 << 32).Time().UTC().Format(time.RFC3339); got != "1968-01-20T03:14:08Z" {
		t.Errorf("Timestamp(0x80000000.0).Time() = %s, want 1968-01-20T03:14:08Z", got)
	}
	if got := Timestamp(0).Time().UTC().Format(time.RFC3339); got != "2036-02-07T06:28:16Z" {
		t.Errorf("Timestamp(0).Time() = %s, want era 1's start 2036-02-07T06:28:16Z", got)
	}
}

func TestParseChronyCapture(t *testing.T) {
	r, err := ParseReply(chronyReply(t), chronyNonce)
	if err != nil {
		t.Fatalf("ParseReply(chrony capture) = %v", err)
	}
	if r.Stratum != 10 || r.Version != 4 || r.Leap != 0 || r.RefID != [4]byte{127, 127, 1, 1} {
		t.Errorf("ParseReply(chrony capture) = stratum %d version %d leap %d refid %v, want 10, 4, 0, 127.127.1.1", r.Stratum, r.Version, r.Leap, r.RefID)
	}
	if got := r.Receive.Time().UTC().Format("2006-01-02"); got != "2026-12-03" {
		t.Errorf("receive timestamp = %s, want the capture day 2026-12-03", got)
	}
	if _, err := ParseReply(chronyReply(t), chronyNonce+1); !errors.Is(err, ErrOrigin) {
		t.Errorf("ParseReply(capture, other nonce) = %v, want ErrOrigin", err)
	}
}

// reply builds a valid server reply to nonce, then lets mod change it.
func reply(nonce Timestamp, mod func(b []byte)) []byte {
	b := make([]byte, HeaderLen)
	b[0] = 0<<6 | 4<<3 | modeServer
	b[1] = 2
	b[3] = 0xe7
	binary.BigEndian.PutUint32(b[4:], 0x00000100)
	binary.BigEndian.PutUint32(b[8:], 0x00000200)
	copy(b[12:], []byte{192, 0, 2, 1})
	now := ToTimestamp(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
	binary.BigEndian.PutUint64(b[16:], uint64(now-1<<32))
	binary.BigEndian.PutUint64(b[24:], uint64(nonce))
	binary.BigEndian.PutUint64(b[32:], uint64(now))
	binary.BigEndian.PutUint64(b[40:], uint64(now+1<<20))
	if mod != nil {
		mod(b)
	}
	return b
}

func TestParseReplyRefuses(t *testing.T) {
	const nonce Timestamp = 0xfeedfacecafebeef
	kiss := func(code string) func([]byte) {
		return func(b []byte) { b[1] = 0; copy(b[12:], code) }
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		kod  string
	}{
		{"short", reply(nonce, nil)[:47], ErrMalformed, ""},
		{"oversize", append(reply(nonce, nil), make([]byte, MaxReply)...), ErrMalformed, ""},
		{"ragged", append(reply(nonce, nil), 1, 2), ErrMalformed, ""},
		{"client mode", reply(nonce, func(b []byte) { b[0] = 4<<3 | modeClient }), ErrMalformed, ""},
		{"broadcast", reply(nonce, func(b []byte) { b[0] = 4<<3 | 5 }), ErrMalformed, ""},
		{"version 2", reply(nonce, func(b []byte) { b[0] = 2<<3 | modeServer }), ErrMalformed, ""},
		{"version 5", reply(nonce, func(b []byte) { b[0] = 5<<3 | modeServer }), ErrMalformed, ""},
		{"spoofed origin", reply(nonce+1, nil), ErrOrigin, ""},
		{"spoofed kiss", reply(nonce+1, kiss("DENY")), ErrOrigin, ""},
		{"alarm", reply(nonce, func(b []byte) { b[0] |= 3 << 6 }), ErrUnsynchronized, ""},
		{"stratum 16", reply(nonce, func(b []byte) { b[1] = 16 }), ErrUnsynchronized, ""},
		{"zero transmit", reply(nonce, func(b []byte) { clear(b[40:48]) }), ErrUnsynchronized, ""},
		{"zero receive", reply(nonce, func(b []byte) { clear(b[32:40]) }), ErrUnsynchronized, ""},
		{"zero reference", reply(nonce, func(b []byte) { clear(b[16:24]) }), ErrUnsynchronized, ""},
		{"root distance", reply(nonce, func(b []byte) { binary.BigEndian.PutUint32(b[8:], 2<<16) }), ErrUnsynchronized, ""},
		{"transmit before receive", reply(nonce, func(b []byte) { copy(b[40:48], b[16:24]) }), ErrMalformed, ""},
		{"kiss RATE", reply(nonce, kiss("RATE")), nil, "RATE"},
		{"kiss DENY", reply(nonce, kiss("DENY")), nil, "DENY"},
		{"kiss binary", reply(nonce, kiss("\x00\x01\x02\x03")), nil, "00010203"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseReply(tc.b, nonce)
			if r != nil {
				t.Fatalf("ParseReply(%s) accepted the reply", tc.name)
			}
			if tc.kod != "" {
				var k *KissError
				if !errors.As(err, &k) || k.Code != tc.kod {
					t.Fatalf("ParseReply(%s) = %v, want kiss-o'-death %s", tc.name, err, tc.kod)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseReply(%s) = %v, want %v", tc.name, err, tc.want)
			}
		})
	}
	if _, err := ParseReply(reply(nonce, nil), nonce); err != nil {
		t.Fatalf("ParseReply(valid) = %v", err)
	}
	if _, err := ParseReply(append(reply(nonce, nil), make([]byte, 20)...), nonce); err != nil {
		t.Fatalf("ParseReply(valid with a 20-byte MAC) = %v", err)
	}
}

func TestNewSample(t *testing.T) {
	base := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		skew       time.Duration // server minus client
		out, back  time.Duration // one-way delays
		processing time.Duration
	}{
		{"in step", 0, 5 * time.Millisecond, 5 * time.Millisecond, time.Millisecond},
		{"client behind", 3 * time.Second, 10 * time.Millisecond, 10 * time.Millisecond, 0},
		{"client ahead", -90 * time.Minute, 2 * time.Millisecond, 2 * time.Millisecond, 100 * time.Microsecond},
		{"client in 2020", time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC).Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)), time.Millisecond, time.Millisecond, 0},
		{"asymmetric", time.Second, 30 * time.Millisecond, 10 * time.Millisecond, 0},
	} {
		t1 := base
		t2 := t1.Add(tc.out).Add(tc.skew)
		t3 := t2.Add(tc.processing)
		t4 := t1.Add(tc.out + tc.processing + tc.back)
		r := &Reply{Stratum: 2, Receive: ToTimestamp(t2), Transmit: ToTimestamp(t3)}
		s, err := NewSample(r, t1, t4)
		if err != nil {
			t.Fatalf("%s: NewSample = %v", tc.name, err)
		}
		// The offset error of SNTP is half the path asymmetry.
		wantOff := tc.skew + (tc.out-tc.back)/2
		if d := s.Offset - wantOff; d < -2*time.Nanosecond || d > 2*time.Nanosecond {
			t.Errorf("%s: offset = %v, want %v", tc.name, s.Offset, wantOff)
		}
		if d := s.Delay - (tc.out + tc.back); d < -2*time.Nanosecond || d > 2*time.Nanosecond {
			t.Errorf("%s: delay = %v, want %v", tc.name, s.Delay, tc.out+tc.back)
		}
	}
	r := &Reply{Receive: ToTimestamp(base), Transmit: ToTimestamp(base.Add(time.Second))}
	if _, err := NewSample(r, base, base.Add(time.Millisecond)); !errors.Is(err, ErrMalformed) {
		t.Errorf("NewSample(processing longer than round trip) = %v, want ErrMalformed", err)
	}
}

func TestConfigFromSettings(t *testing.T) {
	file := func(js string) *settings.File {
		f, err := settings.Parse("test", []byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	c, err := ConfigFromSettings(file(`{"timesvc.server": "10.0.2.2:123", "timesvc.poll_min": "16s", "timesvc.poll_max": "34m8s", "timesvc.step_threshold": "500ms"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != "10.0.2.2:123" || c.MinPoll != 16*time.Second || c.MaxPoll != 2048*time.Second || c.StepThreshold != 500*time.Millisecond {
		t.Errorf("ConfigFromSettings = %+v", c)
	}
	for _, bad := range []string{
		`{"timesvc.server": 123}`,
		`{"timesvc.poll_min": 64}`,
		`{"timesvc.poll_max": "soon"}`,
		`{"timesvc.step_threshold": "100h"}`,
	} {
		if _, err := ConfigFromSettings(file(bad)); err == nil {
			t.Errorf("ConfigFromSettings(%s) = nil error, want one", bad)
		}
	}
	if c, err := ConfigFromSettings(file(`{"timesvc.poll_min": "1s"}`)); err != nil || c.Validate() == nil {
		t.Errorf("poll_min 1s: ConfigFromSettings err %v, Validate must refuse it (RFC 4330 floor)", err)
	}
	cfg := Config{Server: "ntp", MinPoll: 64 * time.Second, MaxPoll: 32 * time.Second}
	if err := cfg.Validate(); err == nil {
		t.Errorf("Validate(poll_max < poll_min) = nil, want an error")
	}
	cfg = Config{}
	if err := cfg.Validate(); err == nil {
		t.Errorf("Validate(no server) = nil, want an error")
	}
	if got := ServerAddr("pool.ntp.org"); got != "pool.ntp.org:123" {
		t.Errorf("ServerAddr(pool.ntp.org) = %s", got)
	}
	if got := ServerAddr("[::1]:1123"); got != "[::1]:1123" {
		t.Errorf("ServerAddr([::1]:1123) = %s", got)
	}
}
