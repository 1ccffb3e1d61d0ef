package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	msdaemon "github.com/oemkit/messenger/msmsgs/daemon"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// libDaemon runs a daemon through the library against the lab, for tests
// that send what the ctl commands never send.
func libDaemon(t *testing.T, ctx context.Context, l *lab, account, password string) *msdaemon.Daemon {
	t.Helper()
	s := &config.Settings{Server: l.r.Addr, Nexus: l.r.Nexus, CAFile: l.r.CA, Account: account, Password: password,
		Downloads: t.TempDir(), FTPorts: freePortRange(t, 2)}
	d, err := msdaemon.New(s, english(), newLogger(io.Discard, false))
	if err != nil {
		t.Fatalf("daemon.New(%s): %v", account, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := d.Client().WaitSignedIn(wctx); err != nil {
		t.Fatalf("%s sign-in: %v", account, err)
	}
	return d
}

// TestMalformedOffer: a file offer whose size is not a number is declined
// with CANCEL to the sender (who would otherwise wait), and the user sees
// why.
func TestMalformedOffer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const ann, ben = "ann@example.com", "ben@example.com"
	l := newLab(t, map[string]string{ann: "ann-Pw1", ben: "ben-Pw2"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := daemon(t, ctx, l, ben, "ben-Pw2")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	a := libDaemon(t, ctx, l, ann, "ann-Pw1")
	cancels := make(chan msnp.Header, 1)
	a.HandleInvite(func(conv *client.Conversation, from string, fields msnp.Header) bool {
		if fields.Get("Invitation-Command") == "CANCEL" {
			cancels <- fields
			return true
		}
		return false
	})
	if err := a.Client().Add(ctx, ben); err != nil {
		t.Fatal(err)
	}
	mustCtl(t, ctx, b, "add", ann)
	seq := lastSeq(t, ctx, b)
	conv, err := a.Client().OpenOrReuse(ctx, ben)
	if err != nil {
		t.Fatalf("open a conversation with ben: %v", err)
	}
	msg, err := msnp.NewInviteMessage(msnp.Header{
		{Key: "Application-Name", Value: "File Transfer"},
		{Key: "Application-GUID", Value: msnftp.FileTransferGUID},
		{Key: "Invitation-Command", Value: "INVITE"},
		{Key: "Invitation-Cookie", Value: "4242"},
		{Key: "Application-File", Value: "photo.jpg"},
		{Key: "Application-FileSize", Value: "lots"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := conv.SendMessage(ctx, msg, msnp.AckFull); err != nil {
		t.Fatalf("send the offer: %v", err)
	}
	waitFor(t, ctx, b, seq, transfer.EventFailed, "cookie=4242", "reason=malformed-offer")
	select {
	case h := <-cancels:
		if h.Get("Invitation-Cookie") != "4242" || h.Get("Cancel-Code") != string(msnftp.CancelFail) {
			t.Errorf("CANCEL for the malformed offer = %v, want cookie 4242, Cancel-Code FAIL", h)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sender of a malformed offer got no CANCEL within 30s")
	}
}

// TestGatewaySwitchboardsLikeRealClients: through the HTTP gateway,
// switchboard sessions keep posting to the gateway even when its GW-IP
// repeats the switchboard address (as an independent service's gateway
// did); the gateway is the real messengerd one, the front only rewrites
// GW-IP.
func TestGatewaySwitchboardsLikeRealClients(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd and tinyproxy)")
	}
	testenv.Tool(t, "tinyproxy", "apt-get install tinyproxy")
	const ann, ben = "ann@example.com", "ben@example.com"
	l := newLab(t, map[string]string{ann: "ann-Pw1", ben: "ben-Pw2"}, "-http", "127.0.0.1:0")
	target, err := url.Parse("http://" + l.r.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sessions := map[string]string{} // SessionID -> IP= of its SB open
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		h, err := gateway.ParseHeader(resp.Header.Get(gateway.HeaderName))
		if err != nil {
			return nil
		}
		q := resp.Request.URL.Query()
		mu.Lock()
		defer mu.Unlock()
		if q.Get("Action") == "open" && q.Get("Server") == "SB" {
			sessions[h.SessionID] = q.Get("IP")
		}
		if ip, ok := sessions[h.SessionID]; ok {
			h.GatewayIP = ip
			resp.Header.Set(gateway.HeaderName, h.String())
		}
		return nil
	}
	front := httptest.NewServer(rp)
	defer front.Close()
	tiny := proxytest.StartTinyproxy(t, proxytest.TinyOptions{ConnectPorts: []int{pxPort(t, l.r.HTTPS)}})
	flags := []string{"-proxy", "http://" + tiny.Addr, "-proxy-mode", "gateway", "-gateway", front.URL + gateway.Path}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := daemon(t, ctx, l, ann, "ann-Pw1", flags...)
	b := daemon(t, ctx, l, ben, "ben-Pw2", flags...)
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, a, "add", ben)
	mustCtl(t, ctx, b, "add", ann)
	pxExchange(t, ctx, a, ann, b, ben)
	mu.Lock()
	n := len(sessions)
	mu.Unlock()
	if n == 0 {
		t.Error("no switchboard session went through the gateway")
	}
}
