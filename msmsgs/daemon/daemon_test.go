package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

func testLang() *msgslang.Catalog {
	return msgslang.Load(filepath.Join("..", "..", "msgslang", "locales"), "en-US", msgslang.Options{})
}

func newTestDaemon(t *testing.T) *Daemon {
	t.Helper()
	s := &config.Settings{Server: "127.0.0.1:1", Account: "a@example.com", Password: "pw", Downloads: t.TempDir()}
	d, err := New(s, testLang(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// TestRegister: a component's command runs through Execute like a
// built-in one, and its events reach subscribers.
func TestRegister(t *testing.T) {
	d := newTestDaemon(t)
	sub, _, _ := d.Subscribe(8)
	defer sub.Close()
	err := d.Register("ring", Command{
		Spec: ctlproto.Spec{Usage: "ring EMAIL", Min: 1, Max: 1},
		Run: func(ctx context.Context, args []string, emit func(client.Event) error) (any, error) {
			d.Publish(client.Event{Type: "call-ringing", Account: args[0]})
			return map[string]string{"calling": args[0]}, nil
		},
	})
	if err != nil {
		t.Fatalf("Register(ring): %v", err)
	}
	if !d.Known("ring") || !d.Known("send") || d.Known("frobnicate") {
		t.Errorf("Known(ring, send, frobnicate) = %v %v %v, want true true false", d.Known("ring"), d.Known("send"), d.Known("frobnicate"))
	}
	res, err := d.Execute(t.Context(), []string{"ring", "bob@example.com"}, nil)
	if err != nil || res.(map[string]string)["calling"] != "bob@example.com" {
		t.Fatalf("Execute(ring bob) = %v, %v", res, err)
	}
	if e := <-sub.C; e.Type != "call-ringing" || e.Account != "bob@example.com" {
		t.Errorf("event = %+v, want call-ringing for bob", e)
	}
	if _, err := d.Execute(t.Context(), []string{"ring"}, nil); err == nil || !strings.Contains(err.Error(), "usage: ring EMAIL") {
		t.Errorf("Execute(ring) without an argument = %v, want a usage error", err)
	}
	if err := d.Register("send", Command{Run: func(context.Context, []string, func(client.Event) error) (any, error) { return nil, nil }}); err == nil {
		t.Error("Register(send) = nil, want an error (built in)")
	}
	if err := d.Register("ring", Command{Run: func(context.Context, []string, func(client.Event) error) (any, error) { return nil, errors.New("x") }}); err == nil {
		t.Error("Register(ring) twice = nil, want an error")
	}
	for _, name := range []string{"Call", "call_up", "", strings.Repeat("x", ctlproto.MaxName+1)} {
		if err := d.Register(name, Command{Run: func(context.Context, []string, func(client.Event) error) (any, error) { return nil, nil }}); err == nil {
			t.Errorf("Register(%q) = nil, want an error (msmsgs ctl could not send it)", name)
		}
	}
	if _, err := d.Execute(t.Context(), []string{"frobnicate"}, nil); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("Execute(frobnicate) = %v, want unknown command", err)
	}
}

// TestNoConversationWhileOffline: asking for a conversation while the
// connection to the service is down says so instead of "no open
// conversation".
func TestNoConversationWhileOffline(t *testing.T) {
	d := newTestDaemon(t)
	for _, args := range [][]string{{"leave", "c2"}, {"invite", "c2", "bob@example.com"}} {
		_, err := d.Execute(t.Context(), args, nil)
		if !errors.Is(err, client.ErrNotSignedIn) || strings.Contains(err.Error(), "no open conversation") {
			t.Errorf("Execute(%q) while offline = %v, want ErrNotSignedIn", args, err)
		}
	}
}

// TestSIPOnly: a daemon with only a SIP account has no .NET Messenger
// client; its event stream still carries events, and the .NET Messenger
// commands say that no such account is configured.
func TestSIPOnly(t *testing.T) {
	s := &config.Settings{Downloads: t.TempDir()}
	s.SIP.URI, s.SIP.Server, s.SIP.Password = "sip:bob@lab.test", "127.0.0.1:1", "pw"
	s.SIP.Realm, s.SIP.KDC = "LAB.TEST", "127.0.0.1:2"
	d, err := New(s, testLang(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if d.Client() != nil || !d.SIPOnly() || d.SIP() == nil {
		t.Fatalf("SIP-only daemon: Client() = %v, SIPOnly() = %v, SIP() = %v; want no client, SIP only", d.Client(), d.SIPOnly(), d.SIP())
	}
	sub, _, _ := d.Subscribe(4)
	defer sub.Close()
	e := d.Publish(client.Event{Type: client.EventError, Error: "x"})
	if got := <-sub.C; got.Seq != e.Seq || d.LastSeq() != e.Seq {
		t.Errorf("event %+v, last seq %d; want %+v", got, d.LastSeq(), e)
	}
	if _, err := d.Execute(t.Context(), []string{"name", "Bob"}, nil); err == nil || !strings.Contains(err.Error(), "only a SIP account") {
		t.Errorf("name on a SIP-only daemon = %v, want: only a SIP account", err)
	}
	res, err := d.Execute(t.Context(), []string{"status"}, nil)
	if err != nil || !strings.Contains(fmt.Sprint(res), "sip:bob@lab.test") {
		t.Errorf("status = %v, %v; want the SIP account's", res, err)
	}
}
