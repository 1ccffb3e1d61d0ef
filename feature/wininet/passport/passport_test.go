package passport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// challenge is a TWN challenge string as sent by the .NET Messenger Service.
const challenge = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619"

func TestParseParams(t *testing.T) {
	tests := []struct {
		in   string
		want Params
	}{
		{"DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,DAReg=http://register.passport.net/uixpwiz.srf,ConfigVersion=11",
			Params{{"DARealm", "Passport.Net"}, {"DALogin", "login.passport.com/login2.srf"}, {"DAReg", "http://register.passport.net/uixpwiz.srf"}, {"ConfigVersion", "11"}}},
		{"Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY!b8K4YhC!Ooo5ug$$&p=5eKBBC!yBH6ex5mftp!a9DrSb0B3hU8aqAWpaPn07iCGBw5akemiWSd7t2ot!okPvIR!Wqk!MKvi1IMpxfhkao9wpxlMWYAZ!DqRfACmyQGG112Bp9xrk04!BVBUa9*H9mJLoWw39m63YQRE1yHnYNv08nyz43D3OnMcaCoeSaEHVM7LpR*LWDme29qq2X3j8N',ru=http://messenger.msn.com",
			Params{{"da-status", "success"}, {"tname", "MSPAuth"}, {"tname", "MSPProf"}, {"tname", "MSPSec"},
				{"from-PP", "t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY!b8K4YhC!Ooo5ug$$&p=5eKBBC!yBH6ex5mftp!a9DrSb0B3hU8aqAWpaPn07iCGBw5akemiWSd7t2ot!okPvIR!Wqk!MKvi1IMpxfhkao9wpxlMWYAZ!DqRfACmyQGG112Bp9xrk04!BVBUa9*H9mJLoWw39m63YQRE1yHnYNv08nyz43D3OnMcaCoeSaEHVM7LpR*LWDme29qq2X3j8N"},
				{"ru", "http://messenger.msn.com"}}},
		{"Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt,cburl=http://www.passport.com/images/logo.gif,cbtxt=Passport",
			Params{{"da-status", "failed"}, {"srealm", "Passport.NET"}, {"ts", "-3"}, {"prompt", ""}, {"cburl", "http://www.passport.com/images/logo.gif"}, {"cbtxt", "Passport"}}},
		{"Passport1.4 da-status=redir", Params{{"da-status", "redir"}}},
		{"Passport1.4", Params{}},
		{"a=1,,b='x,y' , c=3", Params{{"a", "1"}, {"b", "x,y"}, {"c", "3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseParams(tt.in)
			if err != nil {
				t.Fatalf("ParseParams(%q) error %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseParams(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseParamsErrors(t *testing.T) {
	for _, in := range []string{"a='unterminated", "=x", "a='q'junk", strings.Repeat("a", maxHeaderLen+1)} {
		t.Run(in[:min(len(in), 20)], func(t *testing.T) {
			if got, err := ParseParams(in); !errors.Is(err, ErrMalformedHeader) {
				t.Errorf("ParseParams(%q) = %v, %v, want ErrMalformedHeader", in, got, err)
			}
		})
	}
}

func TestDALoginAndTicket(t *testing.T) {
	got, err := DALogin("DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,ConfigVersion=11", "https")
	if want := "https://login.passport.com/login2.srf"; err != nil || got != want {
		t.Errorf("DALogin = %q, %v, want %q", got, err, want)
	}
	if _, err := DALogin("DARealm=Passport.Net", "https"); err == nil {
		t.Errorf("DALogin(no DALogin) succeeded, want error")
	}
	tk, err := Ticket("Passport1.4 da-status=success,from-PP='t=abc&p=def',ru=x")
	if err != nil || tk != "t=abc&p=def" {
		t.Errorf("Ticket = %q, %v, want t=abc&p=def", tk, err)
	}
	if _, err := Ticket("Passport1.4 da-status=failed,from-PP='t=abc'"); err == nil {
		t.Errorf("Ticket(failed) succeeded, want error")
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add("DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,ConfigVersion=11")
	f.Add("Passport1.4 da-status=success,tname=MSPAuth,from-PP='t=a,b&p=c',ru=http://messenger.msn.com")
	f.Add("Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt")
	f.Add("a='")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParseParams(in)
		if err != nil {
			return
		}
		// Round trip: formatting and parsing again gives the same pairs
		// when no value contains a quote.
		for _, kv := range p {
			if strings.ContainsAny(kv.Key+kv.Value, "'=, \t") || kv.Key == "" || strings.HasPrefix(strings.ToLower(kv.Key), "passport") {
				return
			}
		}
		again, err := ParseParams(p.String())
		if err != nil {
			t.Fatalf("ParseParams(%q) of formatted %q: %v", p.String(), in, err)
		}
		if len(p) == 0 {
			return
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Errorf("round trip of %q mismatch (-first +second):\n%s", in, diff)
		}
	})
}

// server is a Passport nexus and login server for the tests.
type server struct {
	account, password string
	redirects         int // how many 302s before answering
	hits              atomic.Int32
	sawAuth           atomic.Value
}

func (s *server) handler(base func() string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/rdr/pprdr.asp", func(w http.ResponseWriter, r *http.Request) {
		host := strings.TrimPrefix(strings.TrimPrefix(base(), "https://"), "http://")
		w.Header().Set("PassportURLs", "DARealm=Passport.Net,DALogin="+host+"/login2.srf,DAReg=http://x/y,ConfigVersion=11")
	})
	mux.HandleFunc("/login2.srf", func(w http.ResponseWriter, r *http.Request) {
		n := s.hits.Add(1)
		a := r.Header.Get("Authorization")
		s.sawAuth.Store(a)
		if int(n) <= s.redirects {
			w.Header().Set("Location", base()+"/login2.srf?hop="+string(rune('0'+n)))
			w.Header().Set("Authentication-Info", "Passport1.4 da-status=redir")
			w.WriteHeader(http.StatusFound)
			return
		}
		p, err := ParseParams(a)
		user, _ := p.Get("sign-in")
		pwd, _ := p.Get("pwd")
		if err != nil || user != strings.ReplaceAll(s.account, "@", "%40") || pwd != s.password || !strings.Contains(a, challenge) {
			w.Header().Set("WWW-Authenticate", "Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Authentication-Info", "Passport1.4 da-status=success,tname=MSPAuth,from-PP='t=tick,et&p=prof',ru=http://messenger.msn.com")
	})
	return mux
}

func newTLS(t *testing.T, s *server) (*httptest.Server, *Client) {
	t.Helper()
	var ts *httptest.Server
	ts = httptest.NewTLSServer(s.handler(func() string { return ts.URL }))
	t.Cleanup(ts.Close)
	pool := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return ts, &Client{HTTP: NewHTTPClient(pool, nil), Nexus: ts.URL + "/rdr/pprdr.asp"}
}

func TestLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name      string
		password  string
		redirects int
		max       int
		wantErr   error
	}{
		{"ok", "s3cret ,=&", 0, 0, nil},
		{"redirected", "s3cret ,=&", 2, 0, nil},
		{"wrong password", "nope", 0, 0, ErrWrongPassword},
		{"redirect loop", "s3cret ,=&", 10, 3, ErrTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{account: "alice@example.com", password: "s3cret%20%2C%3D%26", redirects: tt.redirects}
			_, c := newTLS(t, s)
			c.MaxRedirects = tt.max
			got, err := c.Login(ctx, "alice@example.com", tt.password, challenge)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Login() = %q, %v, want error %v", got, err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), tt.password) {
					t.Errorf("Login() error %q contains the password", err)
				}
				return
			}
			if got != "t=tick,et&p=prof" {
				t.Errorf("Login() = %q, want t=tick,et&p=prof", got)
			}
			if int(s.hits.Load()) != tt.redirects+1 {
				t.Errorf("login requests = %d, want %d", s.hits.Load(), tt.redirects+1)
			}
			a, _ := s.sawAuth.Load().(string)
			if !strings.HasPrefix(a, "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40example.com,pwd=") {
				t.Errorf("Authorization = %q, want Passport1.4 OrgVerb=GET,OrgURL=...", a)
			}
		})
	}
}

func TestLoginUntrusted(t *testing.T) {
	s := &server{account: "a@b.c", password: "p"}
	ts, _ := newTLS(t, s)
	pool, err := CertPool(false) // empty pool: the test CA is not in it
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{HTTP: NewHTTPClient(pool, nil), Nexus: ts.URL + "/rdr/pprdr.asp"}
	_, err = c.Login(context.Background(), "a@b.c", "p", challenge)
	if !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Login(untrusted) error = %v, want ErrUntrusted", err)
	}
	if !strings.Contains(err.Error(), "-ca") {
		t.Errorf("Login(untrusted) error %q does not say how to fix it", err)
	}
}

func TestPlainHTTP(t *testing.T) {
	s := &server{account: "a@b.c", password: "p"}
	var ts *httptest.Server
	ts = httptest.NewServer(s.handler(func() string { return ts.URL }))
	defer ts.Close()
	c := &Client{HTTP: NewHTTPClient(nil, nil), Nexus: ts.URL + "/rdr/pprdr.asp"}
	if _, err := c.Login(context.Background(), "a@b.c", "p", challenge); !errors.Is(err, ErrInsecure) {
		t.Fatalf("Login(http) error = %v, want ErrInsecure", err)
	}
	c.AllowHTTP = true
	if got, err := c.Login(context.Background(), "a@b.c", "p", challenge); err != nil || got == "" {
		t.Fatalf("Login(http, AllowHTTP) = %q, %v, want a ticket", got, err)
	}
}

func TestCertPoolErrors(t *testing.T) {
	if _, err := CertPool(false, "testdata/does-not-exist.pem"); err == nil {
		t.Errorf("CertPool(missing file) succeeded, want error")
	}
	if _, err := CertPool(false, "passport.go"); err == nil {
		t.Errorf("CertPool(not PEM) succeeded, want error")
	}
}

// FuzzTicket: the device's check of the login server's answer. Ticket never
// returns a ticket with white space or one from a failed answer, and a
// ticket the way the lab service and the real one sent it comes back as
// it was.
func FuzzTicket(f *testing.F) {
	f.Add("Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='t=abc&p=def',ru=http://messenger.msn.com", "t=abc&p=def")
	f.Add("Passport1.4 da-status=failed,from-PP='t=x'", "t=x,y")
	f.Add("Passport1.4 da-status=success,from-PP=''", "")
	f.Add("da-status=SUCCESS,from-PP='t=a b'", "t=a\r\nb")
	f.Fuzz(func(t *testing.T, authInfo, ticket string) {
		if got, err := Ticket(authInfo); err == nil {
			if got == "" || strings.ContainsAny(got, " \t\r\n") {
				t.Fatalf("Ticket(%q) = %q, want no empty ticket and no white space", authInfo, got)
			}
			st, _ := ParseParams(authInfo)
			if s, _ := st.Get("da-status"); !strings.EqualFold(s, "success") {
				t.Fatalf("Ticket(%q) = %q from an answer that is not a success", authInfo, got)
			}
		}
		if ticket == "" || strings.ContainsAny(ticket, "' \t\r\n") {
			return
		}
		h := "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='" + ticket + "',ru=http://messenger.msn.com"
		got, err := Ticket(h)
		if err != nil || got != ticket {
			t.Fatalf("Ticket(%q) = %q, %v; want %q", h, got, err, ticket)
		}
	})
}
