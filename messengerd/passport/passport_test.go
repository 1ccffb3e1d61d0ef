package passport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fakeAuth map[string]string // account -> password, a test table, not a stand-in for the store

func (a fakeAuth) CheckPassword(_ context.Context, email, pw string) (string, error) {
	if p, ok := a[strings.ToLower(email)]; ok && p == pw {
		return strings.ToLower(email), nil
	}
	return "", errors.New("bad password")
}

func TestTickets(t *testing.T) {
	tk, err := NewTickets(NewKey(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ticket := tk.Issue("alice@example.com")
	if strings.ContainsAny(ticket, " \r\n,'") {
		t.Errorf("Issue() = %q contains characters unsafe on an MSNP line or header", ticket)
	}
	if got, err := tk.Verify(ticket); err != nil || got != "alice@example.com" {
		t.Errorf("Verify(Issue()) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "t=", "t=abc&p=def", ticket[:len(ticket)-2] + "xx", strings.Replace(ticket, "t=", "t=A", 1)} {
		if _, err := tk.Verify(bad); !errors.Is(err, ErrBadTicket) {
			t.Errorf("Verify(%q) = %v, want ErrBadTicket", bad, err)
		}
	}
	other, _ := NewTickets(NewKey(), time.Hour)
	if _, err := other.Verify(ticket); !errors.Is(err, ErrBadTicket) {
		t.Errorf("Verify with another key = %v, want ErrBadTicket", err)
	}
	tk.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := tk.Verify(ticket); !errors.Is(err, ErrExpiredTicket) {
		t.Errorf("Verify(expired) = %v, want ErrExpiredTicket", err)
	}
}

func TestParseAuthorization(t *testing.T) {
	v := "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=example%40passport.com,pwd=p%2Cw%20d+x,lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a14ba57b9a4b8c1b8d0b89aa1a2a"
	got, err := ParseAuthorization(v)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"OrgVerb": "GET", "OrgURL": "http://messenger.msn.com", "sign-in": "example@passport.com", "pwd": "p,w d+x",
		"lc": "1033", "id": "507", "tw": "40", "fs": "1", "ru": "http://messenger.msn.com", "ct": "1062764229", "kpp": "1", "kv": "5",
		"ver": "2.1.0173.1", "tpf": "43f8a14ba57b9a4b8c1b8d0b89aa1a2a"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseAuthorization mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "Basic abc", "Passport1.4x a=b", "Passport1.4 pwd=%zz"} {
		if _, err := ParseAuthorization(bad); !errors.Is(err, ErrBadHeader) {
			t.Errorf("ParseAuthorization(%q) = %v, want ErrBadHeader", bad, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=a%40b.c,pwd=x,lc=1033")
	f.Add("Passport1.4 prompt,,=,a=%")
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseAuthorization(v)
		if err != nil && !errors.Is(err, ErrBadHeader) {
			t.Fatalf("error %v does not wrap ErrBadHeader", err)
		}
		if err == nil && len(m) > 64 {
			t.Fatalf("%d fields passed the bound", len(m))
		}
	})
}

func TestHandlers(t *testing.T) {
	tk, _ := NewTickets(NewKey(), time.Hour)
	s := &Service{Auth: fakeAuth{"alice@example.com": "secret"}, Tickets: tk}
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	c := srv.Client()

	res, err := c.Get(srv.URL + NexusPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	if got := res.Header.Get("PassportURLs"); !strings.Contains(got, "DALogin="+host+LoginPath+",") {
		t.Errorf("PassportURLs = %q, want DALogin=%s%s", got, host, LoginPath)
	}

	for _, tc := range []struct {
		name, auth string
		code       int
	}{
		{"good", "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40example.com,pwd=secret,lc=1033", 200},
		{"wrong password", "Passport1.4 OrgVerb=GET,sign-in=alice%40example.com,pwd=nope", 401},
		{"no header", "", 401},
		{"garbage", "Passport1.4 sign-in=%%%", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+LoginPath, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.code {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.code)
			}
			if tc.code != 200 {
				if !strings.Contains(res.Header.Get("WWW-Authenticate"), "da-status=failed") {
					t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
				}
				return
			}
			ai := res.Header.Get("Authentication-Info")
			_, rest, ok := strings.Cut(ai, "from-PP='")
			ticket, _, ok2 := strings.Cut(rest, "'")
			if !ok || !ok2 || !strings.Contains(ai, "da-status=success") {
				t.Fatalf("Authentication-Info = %q", ai)
			}
			if got, err := tk.Verify(ticket); err != nil || got != "alice@example.com" {
				t.Errorf("Verify(from-PP) = %q, %v", got, err)
			}
		})
	}
}

// FuzzVerify: the notification server's ticket check (USR TWN S). Any
// ticket must be refused unless it is one Issue made; a ticket Issue made
// verifies as its own account and no other; any change to it is refused.
func FuzzVerify(f *testing.F) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	tk, err := NewTickets(key, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good := tk.Issue("alice@example.com")
	f.Add(good, "alice@example.com", uint16(0), byte('x'))
	f.Add(strings.Replace(good, "&p=", "&p=&p=", 1), "bob@example.com", uint16(5), byte('A'))
	f.Add("t=&p=", "", uint16(1), byte('='))
	f.Add("t=YWxpY2UKOTk5OTk5OTk5OQp4&p=", "victim@example.com\n9999999999", uint16(30), byte('\n'))
	f.Add(strings.Repeat("t=", 600), "a@b", uint16(600), byte(0))
	f.Fuzz(func(t *testing.T, ticket, email string, pos uint16, b byte) {
		if who, err := tk.Verify(ticket); err == nil {
			// Only an issued ticket verifies: its MAC must be the key's
			// MAC of its payload, and it names the account inside it.
			payload, sig, _ := strings.Cut(strings.TrimPrefix(ticket, "t="), "&p=")
			if sig != tk.mac(payload) {
				t.Fatalf("Verify(%q) = %q without a valid MAC", ticket, who)
			}
		}
		issued := tk.Issue(email)
		who, err := tk.Verify(issued)
		if err == nil && who != email {
			t.Fatalf("Verify(Issue(%q)) = %q, another account", email, who)
		}
		if err != nil && !strings.Contains(email, "\n") && len(email) < 600 {
			t.Fatalf("Verify(Issue(%q)) = %v", email, err)
		}
		if err != nil {
			return
		}
		i := int(pos) % len(issued)
		if issued[i] == b {
			return
		}
		changed := issued[:i] + string(b) + issued[i+1:]
		if who, err := tk.Verify(changed); err == nil {
			t.Fatalf("Verify of issued ticket %q with byte %d changed to %q = %q, want refused", issued, i, b, who)
		}
	})
}
