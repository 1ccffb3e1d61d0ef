package config

import (
	"testing"

	"github.com/oemkit/messenger/feature/settings"
)

func TestStartPageURL(t *testing.T) {
	for _, tc := range []struct {
		setting, server, gateway, want string
	}{
		{"http://portal.lab/start/", "10.0.2.2:1863", "", "http://portal.lab/start/"},
		{"", "10.0.2.2:1863", "http://10.0.2.2:8080/gateway/gateway.dll", "http://10.0.2.2:8080/start/"},
		{"", "messenger.lab:1863", "", "http://messenger.lab/start/"},
		{"", "[fd00::2]:1863", "", "http://[fd00::2]/start/"},
		{"", "messenger.lab", "ftp://x/", "http://messenger.lab/start/"},
		{"", "", "", ""},
	} {
		s := &Settings{Server: tc.server, Gateway: tc.gateway}
		if got := StartPageURL(s, tc.setting); got != tc.want {
			t.Errorf("StartPageURL(server %q, gateway %q, setting %q) = %q, want %q", tc.server, tc.gateway, tc.setting, got, tc.want)
		}
	}
}

// TestWindowSettings: settings the design leaves unset (absent from the
// device's file) are "", and do not hide the ones it sets.
func TestWindowSettings(t *testing.T) {
	f, err := settings.Parse("settings.json", []byte(`{"window.fb": "/dev/fb1", "window.start_page": "http://10.0.2.2:8080/start/"}`))
	if err != nil {
		t.Fatal(err)
	}
	w, err := windowSettings(f)
	if err != nil || w != (Window{FB: "/dev/fb1", StartPage: "http://10.0.2.2:8080/start/"}) {
		t.Errorf("windowSettings = %+v, %v", w, err)
	}
	f, _ = settings.Parse("settings.json", []byte(`{"window.start_page": 3}`))
	if _, err := windowSettings(f); err == nil {
		t.Error("a number for window.start_page was accepted")
	}
}
