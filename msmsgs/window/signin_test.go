package window

import (
	"bufio"
	"encoding/json"
	"errors"
	"image"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemkit/messenger/msmsgs/client"
)

// formModel is the window after the daemon answered status with
// no-account, the account and password typed.
func formModel(t *testing.T) *Model {
	t.Helper()
	m := NewModel("")
	result(m, []string{"status"}, json.RawMessage(`{"account":"","state":"no-account"}`), nil, slog.New(slog.DiscardHandler))
	if m.Form == nil || m.Screen != ScreenSignIn {
		t.Fatalf("after status no-account: form %v, screen %v; want the sign-in form", m.Form, m.Screen)
	}
	for _, r := range "alice@lab.example" {
		m.Key(Key{Code: KeyRune, Rune: r}, epoch)
	}
	m.Key(Key{Code: KeyTab}, epoch)
	for _, r := range "secret" {
		m.Key(Key{Code: KeyRune, Rune: r}, epoch)
	}
	return m
}

func TestSignInFormScreen(t *testing.T) {
	for _, tc := range []struct {
		name, locale string
		model        func(*testing.T) *Model
	}{
		{"signin-form", "en-US", formModel},
		{"signin-form-error-ja", "ja-JP", func(t *testing.T) *Model {
			m := formModel(t)
			m.Key(Key{Code: KeyEnter}, epoch)
			m.signinResult(nil, errors.New("client: sign-in refused: Passport: 401 Unauthorized (check the account and password)"))
			return m
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renderer(t, tc.locale)
			img := image.NewRGBA(image.Rect(0, 0, 480, 640))
			r.Render(img, tc.model(t), epoch)
			golden(t, tc.name, img)
		})
	}
}

// TestSignInFormSubmit feeds the keys of a sign-in to the form and
// checks what goes to the control socket: the request signin ACCOUNT and
// the password on the next line, never in the arguments; a refused
// password is shown and cleared, a sign-in shows the contact list.
func TestSignInFormSubmit(t *testing.T) {
	m := formModel(t)
	m.Key(Key{Code: KeyBackspace}, epoch)
	m.Key(Key{Code: KeyRune, Rune: 'T'}, epoch)
	var sent [][]string
	sent = append(sent, m.Key(Key{Code: KeyEnter}, epoch)...)
	if want := [][]string{{"signin", "alice@lab.example"}}; !reflect.DeepEqual(sent, want) {
		t.Fatalf("Enter sent %q, want %q", sent, want)
	}
	if !m.Form.Busy || m.Key(Key{Code: KeyEnter}, epoch) != nil {
		t.Fatal("the form is not busy after Enter, or sends again while busy")
	}
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	replies := []string{
		`{"ok":false,"error":"client: sign-in refused: USR: 911 (check the account and password)"}`,
		`{"ok":true,"result":{"account":"alice@lab.example","state":"signed-in"}}`,
	}
	got := make(chan string, len(replies))
	go func() {
		for _, reply := range replies {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			req, _ := br.ReadString('\n')
			pw, _ := br.ReadString('\n')
			got <- req + pw
			io.WriteString(c, reply+"\n")
			c.Close()
		}
	}()
	res, err := signinCall(t.Context(), sock, sent[0][1], string(m.Form.Password))
	if want := `{"args":["signin","alice@lab.example"]}` + "\nsecreT\n"; <-got != want {
		t.Errorf("sent to the daemon: want %q", want)
	}
	m.signinResult(res, err)
	if m.Form == nil || !strings.Contains(m.Form.Error, "check the account and password") || len(m.Form.Password) != 0 || m.Form.Focus != 1 || m.Form.Busy {
		t.Fatalf("after a refused password the form is %+v; want the error, an empty password field focused", m.Form)
	}
	for _, r := range "right" {
		m.Key(Key{Code: KeyRune, Rune: r}, epoch)
	}
	sent = m.Key(Key{Code: KeyEnter}, epoch)
	res, err = signinCall(t.Context(), sock, sent[0][1], string(m.Form.Password))
	if want := `{"args":["signin","alice@lab.example"]}` + "\nright\n"; <-got != want {
		t.Errorf("second sign-in sent: want %q", want)
	}
	m.signinResult(res, err)
	if m.Form != nil || m.Screen != ScreenContacts || m.State != client.StateSignedIn || m.Account != "alice@lab.example" {
		t.Errorf("after sign-in: form %v, screen %v, state %v, account %q; want the contact list", m.Form, m.Screen, m.State, m.Account)
	}
	// signout: back to the form, the account kept.
	m.Apply(client.Event{Type: client.EventDisconnected, Account: "alice@lab.example", Reason: "signout"})
	if m.Form == nil || m.Screen != ScreenSignIn || string(m.Form.Account) != "alice@lab.example" || len(m.Contacts) != 0 {
		t.Errorf("after signout: form %+v, screen %v, %d contacts; want the form with alice's account", m.Form, m.Screen, len(m.Contacts))
	}
	// An account from the settings: status answers with it, no form.
	m = NewModel("bob@lab.example")
	result(m, []string{"status"}, json.RawMessage(`{"account":"bob@lab.example","state":"connecting"}`), nil, slog.New(slog.DiscardHandler))
	if m.Form != nil {
		t.Error("the sign-in form is shown for an account from the settings")
	}
}

// TestSignInFormBounds: the fields take at most their bound and no
// control characters.
func TestSignInFormBounds(t *testing.T) {
	m := formModel(t)
	for range maxPasswordLen + 10 {
		m.Key(Key{Code: KeyRune, Rune: 'x'}, epoch)
	}
	m.Key(Key{Code: KeyRune, Rune: '\n'}, epoch)
	if n := len(string(m.Form.Password)); n != maxPasswordLen {
		t.Errorf("password field holds %d bytes, want %d", n, maxPasswordLen)
	}
}
