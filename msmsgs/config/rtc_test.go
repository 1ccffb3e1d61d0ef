package config

import (
	"slices"
	"strings"
	"testing"
)

// TestRTCSettings reads SYSGEN_RTC's keys through the typed loader: values
// of the declared types land in Settings.RTC, wrong types and bad values
// are errors that name the key.
func TestRTCSettings(t *testing.T) {
	var s Settings
	err := s.ParseFile([]byte(`{"rtc.sip_port": 7001, "rtc.media_ports": "20000-20009", "rtc.codecs": ["PCMA", "telephone-event"],
		"rtc.listen": "0.0.0.0", "rtc.address": "127.0.0.1", "rtc.audio": "device", "rtc.wav_in": "", "rtc.wav_out": ""}`))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	want := RTC{SIPPort: 7001, MediaPorts: "20000-20009", Codecs: []string{"PCMA", "telephone-event"}, Listen: "0.0.0.0", Address: "127.0.0.1", Audio: "device"}
	if got := s.RTC; got.SIPPort != want.SIPPort || got.MediaPorts != want.MediaPorts || !slices.Equal(got.Codecs, want.Codecs) ||
		got.Listen != want.Listen || got.Address != want.Address || got.Audio != want.Audio {
		t.Errorf("RTC = %+v, want %+v", got, want)
	}
	if err := s.RTC.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for _, tc := range []struct{ file, want string }{
		{`{"rtc.sip_port": "6901"}`, "rtc.sip_port"},
		{`{"rtc.sip_port": 70000}`, "rtc.sip_port 70000"},
		{`{"rtc.media_ports": "16384-"}`, "rtc.media_ports"},
		{`{"rtc.codecs": "PCMU,PCMA"}`, "rtc.codecs"},
		{`{"rtc.address": 5}`, "rtc.address"},
	} {
		var s Settings
		if err := s.ParseFile([]byte(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFile(%s) = %v, want an error naming %s", tc.file, err, tc.want)
		}
	}
	for _, tc := range []struct {
		r    RTC
		want string
	}{
		{RTC{Address: "not-an-ip"}, "rtc.address"},
		{RTC{Listen: "eth0"}, "rtc.listen"},
		{RTC{Codecs: []string{"telephone-event"}}, "no audio codec"},
		{RTC{Audio: "speaker"}, "rtc.audio"},
		{RTC{Audio: "wav"}, "rtc.wav_in"},
	} {
		if err := tc.r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.Validate() = %v, want an error about %s", tc.r, err, tc.want)
		}
	}
}
