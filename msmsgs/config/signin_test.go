package config

import (
	"strings"
	"testing"
)

// TestAwaitSignIn: with AwaitSignIn (the daemon) a server without an
// account validates; an account without a password still does not, nor
// a password without an account.
func TestAwaitSignIn(t *testing.T) {
	env := func(string) string { return "" }
	s := Settings{Server: "h:1863", AwaitSignIn: true}
	if err := s.Validate(env, testLang()); err != nil || s.Ctl == "" {
		t.Errorf("Validate(server, no account, AwaitSignIn) = %v, ctl %q; want nil and a socket", err, s.Ctl)
	}
	s = Settings{Server: "h:1863", Account: "a@b.c", AwaitSignIn: true}
	if err := s.Validate(env, testLang()); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("Validate(account without password) = %v, want: no password", err)
	}
	s = Settings{Server: "h:1863", Password: "pw", AwaitSignIn: true}
	if err := s.Validate(env, testLang()); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Errorf("Validate(password without account) = %v, want: no account", err)
	}
}
