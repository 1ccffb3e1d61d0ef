package sipua

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
)

// fakeChallenger answers every request with the 401 that answer builds:
// a hostile or broken server for the client's challenge checks.
func fakeChallenger(t *testing.T, answer func(req *sipmsg.Message) *sipmsg.Message) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					m, err := sipmsg.Read(br, sipmsg.Limits{})
					if err != nil {
						return
					}
					_, _ = c.Write(answer(m).Bytes())
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestHostileChallenges(t *testing.T) {
	for _, tt := range []struct {
		name string
		code int
		www  []string
		date string
		want error
		says string
	}{
		{"401 without challenge", 401, nil, "", ErrChallenge, "no WWW-Authenticate"},
		{"NTLM only", 401, []string{`NTLM realm="SIP Communications Service", targetname="lab", version=3`}, "", ErrChallenge, "offers NTLM, not Kerberos"},
		{"targetname krbtgt", 401, []string{`Kerberos realm="SIP Communications Service", targetname="krbtgt/LAB.TEST", version=3`}, "", ErrChallenge, "not a sip/host"},
		{"no targetname", 401, []string{`Kerberos realm="SIP Communications Service", version=3`}, "", ErrChallenge, "lacks realm or targetname"},
		{"huge realm", 401, []string{`Kerberos realm="` + strings.Repeat("R", 5000) + `", targetname="sip/x"`}, "", ErrChallenge, "longer than 256"},
		{"unterminated quote", 401, []string{`Kerberos realm="SIP Communications Service, targetname="sip/x`}, "", ErrChallenge, "malformed"},
		{"version 9", 401, []string{`Kerberos realm="r", targetname="sip/x", version=9`}, "", ErrChallenge, "version"},
		{"no auth at all", 200, nil, "", ErrChallenge, "without authentication"},
		{"server refuses", 403, nil, "", ErrRejected, "403"},
		{"server clock an hour ahead", 401, []string{`Kerberos realm="r", targetname="sip/x", version=3`}, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), kerberos.ErrClockSkew, "SIP server clock is"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeChallenger(t, func(req *sipmsg.Message) *sipmsg.Message {
				r := sipmsg.NewResponse(req, tt.code, "X")
				for _, w := range tt.www {
					r.Add("WWW-Authenticate", w)
				}
				if tt.date != "" {
					r.Add("Date", tt.date)
				}
				return r
			})
			_, err := Dial(context.Background(), Config{URI: "sip:alice@lab.test", Server: addr, Timeout: 2 * time.Second,
				Kerberos: kerberos.Config{Realm: "LAB.TEST", KDCs: []string{"127.0.0.1:1"}, Password: "x"}})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Dial = %v\nwant %v saying %q", err, tt.want, tt.says)
			}
		})
	}
}

func TestSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(3 * time.Second)
		}
	}()
	_, err = Dial(context.Background(), Config{URI: "sip:alice@lab.test", Server: l.Addr().String(), Timeout: 500 * time.Millisecond,
		Kerberos: kerberos.Config{Realm: "LAB.TEST", KDCs: []string{"127.0.0.1:1"}, Password: "x"}})
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "no answer to REGISTER") {
		t.Errorf("Dial(silent server) = %v", err)
	}
}

func TestBadURI(t *testing.T) {
	for _, u := range []string{"alice@lab.test", "sip:alice", "sip:@lab.test"} {
		if _, err := Dial(context.Background(), Config{URI: u, Server: "127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "want sip:user@domain") {
			t.Errorf("Dial(URI %q) = %v", u, err)
		}
	}
}

func TestPresenceDocs(t *testing.T) {
	for st := range Statuses {
		doc, err := PresenceDoc("sip:bob@lab.test", st)
		if err != nil {
			t.Fatal(err)
		}
		uri, got, err := ParsePresence(doc)
		if err != nil || uri != "sip:bob@lab.test" || got != st {
			t.Errorf("ParsePresence(PresenceDoc(%s)) = %q %q, %v", st, uri, got, err)
		}
	}
	// A document without msnsubstatus, as a plain XPIDF server sends it.
	plain := `<?xml version="1.0"?><presence><presentity uri="sip:carol@lab.test;method=SUBSCRIBE"/><atom id="9"><address uri="sip:carol@lab.test"><status status="inuse"/></address></atom></presence>`
	if uri, st, err := ParsePresence([]byte(plain)); err != nil || uri != "sip:carol@lab.test" || st != "busy" {
		t.Errorf("ParsePresence(plain XPIDF) = %q %q, %v", uri, st, err)
	}
	if _, err := PresenceDoc("sip:x@y", "dancing"); err == nil {
		t.Error("PresenceDoc(unknown status) = nil error")
	}
	for _, bad := range []string{"", "<presence>", "<presence><atom><address uri=\"sip:a@b\"><status status=\"weird\"/></address></atom></presence>", strings.Repeat("<a>", 10000)} {
		if _, _, err := ParsePresence([]byte(bad)); err == nil {
			t.Errorf("ParsePresence(%.40q) = nil error", bad)
		}
	}
}

func FuzzParsePresence(f *testing.F) {
	doc, _ := PresenceDoc("sip:bob@lab.test", "away")
	f.Add(doc)
	f.Add([]byte(`<presence><atom><address uri="sip:a@b"><status status="open"/></address></atom></presence>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		uri, st, err := ParsePresence(b)
		if err != nil {
			return
		}
		if _, ok := Statuses[st]; !ok || uri == "" {
			t.Fatalf("ParsePresence = %q %q", uri, st)
		}
	})
}

// TestServerSignatureRejected: a server that accepts the AP-REQ but signs
// its 200 without the service key is refused, saying so.
func TestServerSignatureRejected(t *testing.T) {
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "alice-pass")
	r.AddService(t, "sip/lab.test", "")
	addr := fakeChallenger(t, func(req *sipmsg.Message) *sipmsg.Message {
		if req.Get("Authorization") == "" {
			resp := sipmsg.NewResponse(req, 401, "Unauthorized")
			resp.Add("WWW-Authenticate", `Kerberos realm="SIP Communications Service", targetname="sip/lab.test", version=3`)
			return resp
		}
		resp := sipmsg.NewResponse(req, 200, "OK")
		resp.Add("Authentication-Info", `Kerberos qop="auth", opaque="0badf00d", srand="12345678", snum=1, rspauth="602306092a864886f71201020201011100ffffffff0000000000000000000000000000000000", targetname="sip/lab.test", realm="SIP Communications Service"`)
		return resp
	})
	_, err := Dial(context.Background(), Config{URI: "sip:alice@lab.test", Server: addr, Timeout: 2 * time.Second,
		Kerberos: kerberos.Config{Realm: r.Name, KDCs: []string{r.KDC}, Password: "alice-pass"}})
	if !errors.Is(err, sipae.ErrSignature) || !strings.Contains(err.Error(), "not the holder of sip/lab.test's key") {
		t.Errorf("Dial(server with a forged rspauth) = %v", err)
	}
}
