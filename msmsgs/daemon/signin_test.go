package daemon

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/oemkit/messenger/msmsgs/config"
)

// FuzzReadPassword: the password line is bounded and never carries its
// line end.
func FuzzReadPassword(f *testing.F) {
	for _, s := range []string{"pw\n", "pw\r\n", "", "\n", strings.Repeat("x", MaxPassword) + "\n", strings.Repeat("x", MaxPassword+1), "a\nb\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pw, err := ReadPassword(bufio.NewReaderSize(strings.NewReader(in), 16))
		if err != nil {
			if errors.Is(err, ErrPasswordLong) && !(len(strings.SplitN(in, "\n", 2)[0]) > MaxPassword) {
				t.Fatalf("ReadPassword(%q): too long for a short line", in)
			}
			return
		}
		if len(pw) > MaxPassword || strings.ContainsAny(pw, "\n") || !strings.HasPrefix(in, pw) {
			t.Fatalf("ReadPassword(%q) = %q", in, pw)
		}
	})
}

// TestAwaitSignIn: a daemon with a server and no account has no client,
// answers the .NET Messenger commands with the sign-in advice, and
// refuses signin without a password and signout without a client.
func TestAwaitSignIn(t *testing.T) {
	d, err := New(&config.Settings{Server: "127.0.0.1:1", Downloads: t.TempDir()}, testLang(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Client() != nil || !d.AwaitsSignIn() || !d.Known("signin") || !d.Known("signout") {
		t.Fatalf("Client() = %v, AwaitsSignIn() = %v, Known(signin, signout) = %v %v", d.Client(), d.AwaitsSignIn(), d.Known("signin"), d.Known("signout"))
	}
	if _, err := d.Execute(t.Context(), []string{"contacts"}, nil); err == nil || !strings.Contains(err.Error(), "sign in first") {
		t.Errorf("contacts = %v, want: sign in first", err)
	}
	if _, err := d.Execute(t.Context(), []string{"signin", "a@example.com"}, nil); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("signin without a password = %v, want: no password", err)
	}
	if _, err := d.Execute(WithPassword(t.Context(), "pw"), []string{"signin", "a@example.com"}, nil); err == nil || !strings.Contains(err.Error(), "not running its accounts") {
		t.Errorf("signin before Run = %v, want: not running", err)
	}
	if _, err := d.Execute(t.Context(), []string{"signout"}, nil); err == nil || !strings.Contains(err.Error(), "no account is signed in") {
		t.Errorf("signout = %v, want: no account is signed in", err)
	}
	// An account from the settings: no signin command.
	if newTestDaemon(t).Known("signin") {
		t.Error("a daemon with an account from the settings has signin")
	}
}
