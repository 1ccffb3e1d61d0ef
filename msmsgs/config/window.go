package config

import "github.com/oemkit/messenger/feature/settings"

// WindowSettings returns what the design sets for the Messenger window:
// the framebuffer device (window.fb) and an extra font file (window.font),
// "" where the design leaves the default. Without a settings file (a host
// run) both are ""; a setting of the wrong type is an error.
func WindowSettings() (fb, font string, err error) {
	f, err := settings.Device()
	if err != nil {
		return "", "", nil
	}
	if fb, err = f.Text("window.fb"); err != nil {
		return "", "", err
	}
	if font, err = f.Text("window.font"); err != nil {
		return "", "", err
	}
	return fb, font, nil
}
