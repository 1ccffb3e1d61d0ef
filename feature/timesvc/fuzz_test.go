package timesvc

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// FuzzParseReply feeds arbitrary datagrams to the reply parser: it must not
// panic, must refuse anything outside the bounds, and an accepted reply's
// sample must be computable.
func FuzzParseReply(f *testing.F) {
	f.Add(chronyReply(f), uint64(chronyNonce))
	f.Add(reply(7, nil), uint64(7))
	f.Add(reply(7, func(b []byte) { b[1] = 0; copy(b[12:], "RATE") }), uint64(7))
	f.Add(reply(7, nil)[:40], uint64(7))
	f.Add(make([]byte, HeaderLen), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, nonce uint64) {
		r, err := ParseReply(b, Timestamp(nonce))
		if err != nil {
			if r != nil {
				t.Fatalf("ParseReply returned a reply and an error %v", err)
			}
			var k *KissError
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOrigin) && !errors.Is(err, ErrUnsynchronized) && !errors.As(err, &k) {
				t.Fatalf("ParseReply error %v wraps none of the documented errors", err)
			}
			return
		}
		if len(b) < HeaderLen || len(b) > MaxReply || b[0]&7 != modeServer || r.Stratum == 0 || r.Stratum > MaxStratum || r.Leap == 3 {
			t.Fatalf("ParseReply accepted an out-of-bounds reply: len %d mode %d stratum %d leap %d", len(b), b[0]&7, r.Stratum, r.Leap)
		}
		if binary.BigEndian.Uint64(b[24:]) != nonce {
			t.Fatalf("ParseReply accepted a reply whose origin is not the nonce")
		}
		t1 := time.Now()
		if _, err := NewSample(r, t1, t1.Add(time.Millisecond)); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("NewSample = %v", err)
		}
	})
}

// FuzzParseStatus checks the status reader the Kerberos layer uses on a
// file it did not write itself.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"server":"10.0.2.2:123","synced":true,"action":"step","offset_ns":218000000000000000,"last_sync":"2026-12-03T08:00:00Z"}`))
	f.Add([]byte(`{"synced":"yes"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatus(b)
		if err == nil && s == nil {
			t.Fatal("ParseStatus returned neither a status nor an error")
		}
		if len(b) > MaxStatusSize && err == nil {
			t.Fatal("ParseStatus accepted an oversized status")
		}
	})
}
