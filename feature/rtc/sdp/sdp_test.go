package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBaresipOffer(t *testing.T) {
	b, err := os.ReadFile("testdata/baresip-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(baresip offer) error: %v", err)
	}
	m := s.Audio()
	if m == nil {
		t.Fatal("Parse(baresip offer) has no audio stream")
	}
	want := []Codec{
		{PT: 0, Name: "PCMU", Rate: 8000},
		{PT: 8, Name: "PCMA", Rate: 8000},
		{PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-15"},
	}
	if diff := cmp.Diff(want, m.Codecs); diff != "" {
		t.Errorf("Parse(baresip offer) codecs (-want +got):\n%s", diff)
	}
	if s.Addr(m) != "127.0.0.1" || m.Port != 20086 || m.Ptime != 20 || m.Direction != "sendrecv" {
		t.Errorf("Parse(baresip offer) = addr %s port %d ptime %d dir %s, want 127.0.0.1 20086 20 sendrecv", s.Addr(m), m.Port, m.Ptime, m.Direction)
	}
}

func TestNegotiate(t *testing.T) {
	offer, err := os.ReadFile("testdata/baresip-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	lf, err := os.ReadFile("testdata/lf-only-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		body      []byte
		local     []string
		wantCodec string
		wantEvent bool
		wantErr   error
	}{
		{"pcmu first", offer, []string{"PCMU", "PCMA", "telephone-event"}, "PCMU", true, nil},
		{"offerer order wins", offer, []string{"PCMA", "PCMU"}, "PCMU", false, nil},
		{"only pcma", offer, []string{"PCMA"}, "PCMA", false, nil},
		{"static pts without rtpmap", lf, []string{"PCMU", "PCMA", "telephone-event"}, "PCMA", false, nil},
		{"nothing common", lf, []string{"telephone-event"}, "", false, ErrNoCommonCodec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := Negotiate(s, tc.local)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Negotiate(%v) error = %v, want %v", tc.local, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if ch.Audio.Name != tc.wantCodec || (ch.Event != nil) != tc.wantEvent {
				t.Errorf("Negotiate(%v) = %s event=%v, want %s event=%v", tc.local, ch.Audio.Name, ch.Event != nil, tc.wantCodec, tc.wantEvent)
			}
			// The answer must parse back and negotiate to the same codec.
			ans, err := Parse(Answer(ch, 7, 1, "127.0.0.1", 4000).Marshal())
			if err != nil {
				t.Fatalf("Parse(Answer()) error: %v", err)
			}
			back, err := Negotiate(ans, tc.local)
			if err != nil || back.Audio.Name != tc.wantCodec || back.Port != 4000 || back.RTCPPort != 4001 {
				t.Errorf("Negotiate(answer) = %+v, %v; want %s on port 4000", back, err, tc.wantCodec)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	in := NewAudio(42, 3, "10.0.2.15", 6902, []Codec{PCMA, PCMU, TelephoneEvent}, 20)
	out, err := Parse(in.Marshal())
	if err != nil {
		t.Fatalf("Parse(Marshal()) error: %v", err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("Parse(Marshal(x)) != x (-want +got):\n%s", diff)
	}
}

func TestParseInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid-*.sdp")
	if len(files) == 0 {
		t.Fatal("no invalid corpus")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(b); err == nil {
				t.Errorf("Parse(%s) error = nil, want an error", f)
			}
		})
	}
	for _, body := range []string{"", "garbage", "v=1\r\n", "v=0\r\no=- x\r\n", "v=0\r\no=- 1 1 IN IP4 a\r\nm=audio\r\n", "v=0\r\no=- 1 1 IN IP4 a\r\nm=audio 1 RTP/AVP 300\r\n", "v=0\r\no=- 1 1 IN IP4 a\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n"} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%q) error = nil, want an error", body)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sdp")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 ::1\r\nc=IN IP6 ::1\r\nm=audio 0 RTP/SAVP 0\r\na=rtcp:9 IN IP4 1.1.1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must survive negotiation, answering and a re-parse.
		if ch, err := Negotiate(s, []string{"PCMU", "PCMA", "telephone-event"}); err == nil {
			if _, err := Parse(Answer(ch, 1, 1, "127.0.0.1", 5000).Marshal()); err != nil {
				t.Fatalf("answer to a parsed offer does not parse: %v", err)
			}
		}
		out := s.Marshal()
		if !strings.HasPrefix(string(out), "v=0\r\n") {
			t.Fatalf("Marshal() = %q, want a v=0 first line", out)
		}
	})
}
