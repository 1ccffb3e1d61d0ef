package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseCmdline(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    selfTest
		wantErr bool
	}{
		{in: "console=ttyS0 quiet", want: selfTest{ToneLen: 1500 * time.Millisecond}},
		{in: "console=ttyS0 devicetest.tcp=10.0.2.2:4000 devicetest.tone=1000 devicetest.ms=800 devicetest.poweroff=1",
			want: selfTest{TCP: "10.0.2.2:4000", Tone: 1000, ToneLen: 800 * time.Millisecond, PowerOff: true}},
		{in: "devicetest.tcp=nohost", wantErr: true},
		{in: "devicetest.tone=abc", wantErr: true},
		{in: "devicetest.tone=-5", wantErr: true},
		{in: "devicetest.ms=0", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseCmdline(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseCmdline(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseCmdline(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseServices(t *testing.T) {
	got, err := parseServices([]byte(`[{"name":"msmsgs","argv":["msmsgs","-d"],"restart":true}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []service{{Name: "msmsgs", Argv: []string{"msmsgs", "-d"}, Restart: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseServices mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{}`, `[{"name":""}]`, `[{"name":"x","argv":[]}]`, `nope`} {
		if _, err := parseServices([]byte(bad)); err == nil {
			t.Errorf("parseServices(%q) = nil error, want error", bad)
		}
	}
}

func FuzzParseCmdline(f *testing.F) {
	f.Add("console=ttyS0 devicetest.tcp=10.0.2.2:1 devicetest.tone=440")
	f.Add("devicetest.ms=5 devicetest.poweroff=true")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseCmdline(s)
		if err == nil && st.Tone < 0 {
			t.Errorf("parseCmdline(%q) tone %v < 0", s, st.Tone)
		}
	})
}

func FuzzParseServices(f *testing.F) {
	f.Add([]byte(`[{"name":"a","argv":["b"]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseServices(b)
		if err != nil {
			return
		}
		for _, sv := range s {
			if sv.Name == "" || len(sv.Argv) == 0 {
				t.Errorf("parseServices(%q) accepted %+v", b, sv)
			}
		}
	})
}
