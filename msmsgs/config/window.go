package config

import (
	"errors"
	"net"
	"net/url"

	"github.com/oemkit/messenger/feature/settings"
)

// Window is what the design sets for the Messenger window, "" where it
// leaves the default.
type Window struct {
	FB        string // window.fb: the framebuffer device
	Font      string // window.font: an extra font file
	StartPage string // window.start_page: the start page URL ("" derives it: StartPageURL)
}

// WindowSettings returns what the design sets for the Messenger window.
// Without a settings file (a host run) every field is ""; a setting of
// the wrong type is an error.
func WindowSettings() (Window, error) {
	f, err := settings.Device()
	if err != nil {
		return Window{}, nil
	}
	return windowSettings(f)
}

func windowSettings(f *settings.File) (Window, error) {
	var w Window
	// A setting without a default the design leaves unset is absent
	// from the file: that is "", not an error.
	unset := func(err error) bool { return err == nil || errors.Is(err, settings.ErrUnset) }
	var err error
	if w.FB, err = f.Text("window.fb"); !unset(err) {
		return Window{}, err
	}
	if w.Font, err = f.Text("window.font"); !unset(err) {
		return Window{}, err
	}
	if w.StartPage, err = f.Text("window.start_page"); !unset(err) {
		return Window{}, err
	}
	return w, nil
}

// StartPagePath is where the service's plain-HTTP listener serves its
// start page (messengerd -http).
const StartPagePath = "/start/"

// StartPageURL returns the start page the window shows: setting when it
// is set, else StartPagePath on the service's HTTP address, the host and
// port of msmsgs.gateway or, without one, port 80 of the server's host
// (the same address the HTTP gateway defaults to).
func StartPageURL(s *Settings, setting string) string {
	if setting != "" {
		return setting
	}
	if u, err := url.Parse(s.Gateway); err == nil && s.Gateway != "" && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		return u.Scheme + "://" + u.Host + StartPagePath
	}
	host := s.Server
	if h, _, err := net.SplitHostPort(s.Server); err == nil {
		host = h
	}
	if host == "" {
		return ""
	}
	return (&url.URL{Scheme: "http", Host: bracket(host), Path: StartPagePath}).String()
}

func bracket(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "[" + host + "]"
	}
	return host
}
