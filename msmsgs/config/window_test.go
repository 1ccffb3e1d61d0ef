package config

import "testing"

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
