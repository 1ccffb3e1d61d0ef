package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/messengerd/labca"
	"github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// lab is messengerd's service started on loopback: the real store in a temp
// directory, Passport over real TLS with the lab CA, the MSNP server on :0.
type lab struct {
	t      testing.TB
	dir    string
	st     *store.Store
	srv    *Server
	addr   string
	nexus  string
	hc     *http.Client
	hs     *http.Server
	nsAddr string
}

func startLab(t *testing.T, dir string, mod func(*Config)) *lab {
	t.Helper()
	lb := newLab(t, dir, mod)
	t.Cleanup(lb.stop)
	return lb
}

// startLabNoCleanup starts a lab that lives until the process exits (for
// fuzzing, where the lab is shared by all inputs).
func startLabNoCleanup(t testing.TB) *lab {
	dir, err := os.MkdirTemp("", "messengerd-fuzz")
	if err != nil {
		t.Fatal(err)
	}
	return newLab(t, dir, nil)
}

func newLab(t testing.TB, dir string, mod func(*Config)) *lab {
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := labca.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(labca.DefaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := st.Setting(context.Background(), "ticket-key")
	if key == nil {
		key = passport.NewKey()
		st.SetSetting(context.Background(), "ticket-key", key)
	}
	tk, _ := passport.NewTickets(key, time.Hour)
	mux := http.NewServeMux()
	(&passport.Service{Auth: st, Tickets: tk}).Register(mux)
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go hs.ServeTLS(hl, "", "")
	cfg := Config{Store: st, Tickets: tk}
	if mod != nil {
		mod(&cfg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var nsl net.Listener
	if cfg.NSAddr == "split" {
		nsl, _ = net.Listen("tcp", "127.0.0.1:0")
		cfg.NSAddr = nsl.Addr().String()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if nsl != nil {
		go srv.ServeDispatch(l)
		go srv.Serve(nsl)
	} else {
		go srv.Serve(l)
	}
	lb := &lab{t: t, dir: dir, st: st, srv: srv, addr: l.Addr().String(), hs: hs,
		nexus: "https://" + hl.Addr().String() + passport.NexusPath,
		hc:    &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}, Timeout: 20 * time.Second}}
	return lb
}

func (lb *lab) stop() {
	if lb.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lb.srv.Shutdown(ctx)
	lb.hs.Shutdown(ctx)
	lb.st.Close()
	lb.srv = nil
}

func (lb *lab) addUser(email, pw, name string) {
	lb.t.Helper()
	if err := lb.st.AddUser(context.Background(), email, pw, name); err != nil {
		lb.t.Fatal(err)
	}
}

// signIn signs in, syncs lists and goes online with status st ("" skips CHG).
func (lb *lab) signIn(email, pw string, st msnp.Status) *labclient.Conn {
	lb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, email, pw)
	if err != nil {
		lb.t.Fatalf("SignIn(%s) error %v", email, err)
	}
	lb.t.Cleanup(func() { c.Close() })
	if _, err := c.Call("SYN", "0"); err != nil {
		lb.t.Fatalf("SYN: %v", err)
	}
	if st != "" {
		must(lb.t)(c.Call("CHG", string(st), "0"))
	}
	return c
}

func must(t testing.TB) func(msnp.Command, error) msnp.Command {
	return func(c msnp.Command, err error) msnp.Command {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// wantErr checks that cmd's reply is the numeric error code.
func wantErr(t *testing.T, c *labclient.Conn, code msnp.Code, name string, args ...string) {
	t.Helper()
	_, err := c.Call(name, args...)
	var se *msnp.ServerError
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("%s %v = %v, want error %d", name, args, err, code)
	}
}

// expectPresence waits for NLN/FLN about who and returns the status.
func expectPresence(t *testing.T, c *labclient.Conn, who string) msnp.Status {
	t.Helper()
	for {
		cmd, err := c.Read()
		if err != nil {
			t.Fatalf("waiting for presence of %s: %v", who, err)
		}
		switch {
		case cmd.Name == "NLN" && cmd.Arg(1) == who:
			return msnp.Status(cmd.Arg(0))
		case cmd.Name == "FLN" && cmd.Arg(0) == who:
			return msnp.StatusOffline
		}
	}
}

// expectClosed reads until the server closes the connection.
func expectClosed(t *testing.T, c *labclient.Conn) []msnp.Command {
	t.Helper()
	var got []msnp.Command
	for {
		cmd, err := c.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset") {
				return got
			}
			t.Fatalf("want connection closed, got %v after %v", err, got)
		}
		got = append(got, cmd)
	}
}

const pw = "correct horse"

func TestSignInAndLists(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	lb.addUser("alice@lab.test", pw, "Alice A")
	lb.addUser("bob@lab.test", pw, "")

	ctx := context.Background()
	c, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "Alice@Lab.test", pw)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	defer c.Close()
	prof := must(t)(c.Expect("MSG", msnp.NoTrID))
	m, err := msnp.ParseMessage(prof.Payload)
	if err != nil || m.ContentType() != msnp.TypeProfile || m.Header.Get("PreferredEmail") != "alice@lab.test" {
		t.Fatalf("profile = %+v, %v", m, err)
	}
	syn := must(t)(c.Call("SYN", "0"))
	if got := strings.Join(syn.Args, " "); got != "0 0 1" {
		t.Errorf("SYN = %q, want 0 0 1", got)
	}
	must(t)(c.Expect("LSG", msnp.NoTrID))
	c.Backlog()

	add := must(t)(c.Call("ADD", "FL", "bob@lab.test", "Bobby", "0"))
	if got := strings.Join(add.Args, " "); got != "FL 1 bob@lab.test Bobby 0" {
		t.Errorf("ADD FL = %q", got)
	}
	must(t)(c.Call("ADD", "AL", "bob@lab.test", "Bobby"))
	wantErr(t, c, msnp.CodeAlreadyThere, "ADD", "AL", "bob@lab.test", "Bobby")
	wantErr(t, c, msnp.CodeInOppositeList, "ADD", "BL", "bob@lab.test", "Bobby")
	wantErr(t, c, msnp.CodeInvalidUser, "ADD", "FL", "nobody@lab.test", "x", "0")
	wantErr(t, c, msnp.CodeInvalidParameter, "ADD", "RL", "bob@lab.test", "x")
	wantErr(t, c, msnp.CodeInvalidParameter, "ADD", "FL", "not-an-email", "x", "0")
	wantErr(t, c, msnp.CodeNotOnList, "REM", "BL", "bob@lab.test")
	wantErr(t, c, msnp.CodeInvalidGroup, "ADD", "FL", "bob@lab.test", "x", "7")
	wantErr(t, c, msnp.CodeInvalidParameter, "CHG", "FLN", "0")
	wantErr(t, c, msnp.CodeInvalidParameter, "BLP", "XX")
	wantErr(t, c, msnp.CodeAlreadyLoggedIn, "USR", "TWN", "I", "alice@lab.test")
	wantErr(t, c, msnp.CodeInvalidFriendlyName, "REA", "alice@lab.test", "%zz")
	adg := must(t)(c.Call("ADG", "Work%20Mates", "0"))
	if adg.Arg(2) != "1" {
		t.Errorf("ADG = %v, want group id 1", adg)
	}
	must(t)(c.Call("ADD", "FL", "bob@lab.test", "Bobby", "1"))
	rea := must(t)(c.Call("REA", "alice@lab.test", "Alice%20%C3%A9"))
	if rea.Arg(2) != "Alice%20%C3%A9" {
		t.Errorf("REA = %v", rea)
	}
	syn = must(t)(c.Call("SYN", "0"))
	var lines []string
	for len(lines) < 5 {
		cmd, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		if cmd.Name != "QRY" {
			lines = append(lines, cmd.String())
		}
	}
	want := []string{"GTC A", "BLP AL", "LSG 0 Other%20Contacts 0", "LSG 1 Work%20Mates 0", "LST bob@lab.test Bobby 3 0,1"}
	if got := strings.Join(lines[:5], "|"); got != strings.Join(want, "|") {
		t.Errorf("SYN lines = %q, want %q", got, want)
	}
	if syn.Arg(0) != rea.Arg(0) || syn.Arg(1) != "1" || syn.Arg(2) != "2" {
		t.Errorf("SYN = %v, want version %s, 1 contact, 2 groups", syn, rea.Arg(0))
	}
	// Same version: no lists.
	syn2 := must(t)(c.Call("SYN", syn.Arg(0)))
	if len(syn2.Args) != 1 {
		t.Errorf("SYN at current version = %v, want just the version", syn2)
	}
	// Bob's RL shows alice.
	bob := lb.signIn("bob@lab.test", pw, "")
	_ = bob
	b, err := lb.st.Entry(ctx, "bob@lab.test", "alice@lab.test")
	if err != nil || b.Lists != store.RL {
		t.Errorf("bob's entry for alice = %+v, %v, want RL", b, err)
	}
	// Remove from group 1 only, then from FL.
	must(t)(c.Call("REM", "FL", "bob@lab.test", "1"))
	must(t)(c.Call("REM", "FL", "bob@lab.test"))
	b, _ = lb.st.Entry(ctx, "bob@lab.test", "alice@lab.test")
	if b.Lists != 0 {
		t.Errorf("after REM FL bob's entry for alice = %+v, want none", b)
	}
}

func TestWrongPasswordAndBadTicket(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	lb.addUser("alice@lab.test", pw, "")
	ctx := context.Background()
	if _, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "alice@lab.test", "wrong"); !errors.Is(err, labclient.ErrLoginFailed) {
		t.Fatalf("SignIn(wrong password) = %v, want ErrLoginFailed", err)
	}
	if _, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "nobody@lab.test", pw); !errors.Is(err, labclient.ErrLoginFailed) {
		t.Fatalf("SignIn(unknown account) = %v, want ErrLoginFailed", err)
	}
	// A forged or foreign ticket gets 911 and the connection is closed.
	for _, ticket := range []string{"t=forged&p=x", passportTicketFor(t, lb, "bob@lab.test")} {
		c, err := labclient.Dial(ctx, lb.addr)
		if err != nil {
			t.Fatal(err)
		}
		must(t)(c.Call("VER", "MSNP8", "CVR0"))
		must(t)(c.Call("USR", "TWN", "I", "alice@lab.test"))
		wantErr(t, c, msnp.CodeAuthFailed, "USR", "TWN", "S", ticket)
		expectClosed(t, c)
		c.Close()
	}
	// Protocol version and CVR checks.
	c, _ := labclient.Dial(ctx, lb.addr)
	defer c.Close()
	if v := must(t)(c.Call("VER", "MSNP12")); v.Arg(0) != "0" {
		t.Errorf("VER MSNP12 = %v, want VER 0", v)
	}
	c2, _ := labclient.Dial(ctx, lb.addr)
	defer c2.Close()
	must(t)(c2.Call("VER", "MSNP8", "CVR0"))
	wantErr(t, c2, msnp.CodeBadCVR, "CVR", "0x0409")
	wantErr(t, c2, msnp.CodeNotLoggedIn, "SYN", "0")
	wantErr(t, c2, msnp.CodeDomainMissing, "USR", "TWN", "I", "alice@")
}

// passportTicketFor logs in as a real user other than the one signing in.
func passportTicketFor(t *testing.T, lb *lab, email string) string {
	t.Helper()
	lb.addUser(email, pw, "")
	tk, err := labclient.Passport(context.Background(), lb.hc, lb.nexus, email, pw, "lc=1033")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// friends makes a and b watch each other.
func friends(t *testing.T, a, b *labclient.Conn, ae, be string) {
	must(t)(a.Call("ADD", "FL", be, be, "0"))
	must(t)(a.Call("ADD", "AL", be, be))
	must(t)(b.Call("ADD", "FL", ae, ae, "0"))
	must(t)(b.Call("ADD", "AL", ae, ae))
}

func TestPresenceFanOut(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	lb.addUser("alice@lab.test", pw, "Alice")
	lb.addUser("bob@lab.test", pw, "Bob")
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	bob := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)
	must(t)(alice.Call("ADD", "FL", "bob@lab.test", "Bob", "0"))
	// Bob is told he was added (RL).
	rl := must(t)(bob.Expect("ADD", 0))
	if rl.Arg(0) != "RL" || rl.Arg(2) != "alice@lab.test" || rl.Arg(3) != "Alice" {
		t.Errorf("bob got %v, want ADD 0 RL ver alice@lab.test Alice", rl)
	}
	// Alice sees Bob online right away.
	if st := expectPresence(t, alice, "bob@lab.test"); st != msnp.StatusOnline {
		t.Errorf("alice sees bob %s, want NLN", st)
	}
	must(t)(bob.Call("ADD", "FL", "alice@lab.test", "Alice", "0"))
	if st := expectPresence(t, bob, "alice@lab.test"); st != msnp.StatusOnline {
		t.Errorf("bob sees alice %s, want NLN", st)
	}
	for _, st := range []msnp.Status{msnp.StatusBusy, msnp.StatusAway, msnp.StatusOnThePhone, msnp.StatusIdle} {
		must(t)(bob.Call("CHG", string(st), "0"))
		if got := expectPresence(t, alice, "bob@lab.test"); got != st {
			t.Errorf("after bob CHG %s alice sees %s", st, got)
		}
	}
	must(t)(bob.Call("CHG", "HDN", "0"))
	if got := expectPresence(t, alice, "bob@lab.test"); got != msnp.StatusOffline {
		t.Errorf("after bob HDN alice sees %s, want FLN", got)
	}
	// HDN may not open switchboards.
	wantErr(t, bob, msnp.CodeNotAllowedOffline, "XFR", "SB")
	must(t)(bob.Call("CHG", "BRB", "0"))
	if got := expectPresence(t, alice, "bob@lab.test"); got != msnp.StatusBeRightBack {
		t.Errorf("after bob BRB alice sees %s", got)
	}
	// Name change is announced.
	must(t)(bob.Call("REA", "bob@lab.test", "Robert"))
	for {
		cmd := must(t)(alice.Expect("NLN", msnp.NoTrID))
		if cmd.Arg(1) == "bob@lab.test" && cmd.Arg(2) == "Robert" {
			break
		}
	}
	// A third client signing in gets ILN for online contacts.
	alice2 := lb.signIn("alice@lab.test", pw, "")
	cmd := must(t)(alice.Expect("OUT", msnp.NoTrID))
	if cmd.Arg(0) != "OTH" {
		t.Errorf("first alice got %v, want OUT OTH", cmd)
	}
	expectClosed(t, alice)
	id, _ := alice2.Send("CHG", "NLN", "0")
	must(t)(alice2.Expect("CHG", id))
	iln := must(t)(alice2.Expect("ILN", id))
	if iln.Arg(0) != "BRB" || iln.Arg(1) != "bob@lab.test" || iln.Arg(2) != "Robert" {
		t.Errorf("ILN = %v, want BRB bob@lab.test Robert", iln)
	}
	// Bob signing out: FLN.
	bob.Send("OUT")
	if got := expectPresence(t, alice2, "bob@lab.test"); got != msnp.StatusOffline {
		t.Errorf("after bob OUT alice sees %s", got)
	}
}

func TestSwitchboardConversation(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		lb.addUser(u+"@lab.test", pw, strings.ToUpper(u[:1])+u[1:])
	}
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	bob := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)
	carol := lb.signIn("carol@lab.test", pw, msnp.StatusOnline)

	xfr := must(t)(alice.Call("XFR", "SB"))
	if xfr.Arg(0) != "SB" || xfr.Arg(2) != "CKI" {
		t.Fatalf("XFR = %v", xfr)
	}
	ctx := context.Background()
	sa, err := labclient.Dial(ctx, xfr.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	usr := must(t)(sa.Call("USR", "alice@lab.test", xfr.Arg(3)))
	if usr.Arg(0) != "OK" || usr.Arg(2) != "Alice" {
		t.Errorf("SB USR = %v", usr)
	}
	// A cookie works once.
	sx, _ := labclient.Dial(ctx, xfr.Arg(1))
	wantErr(t, sx, msnp.CodeAuthFailed, "USR", "alice@lab.test", xfr.Arg(3))
	sx.Close()

	// Alone: an acknowledged message is NAKed (nobody to deliver to).
	text, _ := msnp.NewTextMessage("anyone?").Bytes()
	id, _ := sa.SendMsg(msnp.AckFull, text)
	must(t)(sa.Expect("NAK", id))

	cal := must(t)(sa.Call("CAL", "bob@lab.test"))
	if cal.Arg(0) != "RINGING" {
		t.Fatalf("CAL = %v", cal)
	}
	rng := must(t)(bob.Expect("RNG", msnp.NoTrID))
	if rng.Arg(0) != cal.Arg(1) || rng.Arg(4) != "alice@lab.test" || rng.Arg(5) != "Alice" {
		t.Fatalf("RNG = %v, want session %s from alice", rng, cal.Arg(1))
	}
	sb, err := labclient.Dial(ctx, rng.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	aid, _ := sb.Send("ANS", "bob@lab.test", rng.Arg(3), rng.Arg(0))
	iro := must(t)(sb.Expect("IRO", aid))
	if strings.Join(iro.Args, " ") != "1 1 alice@lab.test Alice" {
		t.Errorf("IRO = %v", iro)
	}
	must(t)(sb.Expect("ANS", aid))
	joi := must(t)(sa.Expect("JOI", msnp.NoTrID))
	if joi.Arg(0) != "bob@lab.test" {
		t.Errorf("JOI = %v", joi)
	}

	// Alice -> Bob, acknowledged.
	text, _ = msnp.NewTextMessage("Hello Bob! ünïcode").Bytes()
	id, _ = sa.SendMsg(msnp.AckFull, text)
	got := must(t)(sb.Expect("MSG", msnp.NoTrID))
	m, err := msnp.ParseMessage(got.Payload)
	if got.Arg(0) != "alice@lab.test" || err != nil || string(m.Body) != "Hello Bob! ünïcode" {
		t.Errorf("bob got %v %q, %v", got, got.Payload, err)
	}
	must(t)(sa.Expect("ACK", id))
	// Typing notification with U: no ACK, delivered.
	typing, _ := msnp.NewTypingMessage("bob@lab.test").Bytes()
	sb.SendMsg(msnp.AckNone, typing)
	got = must(t)(sa.Expect("MSG", msnp.NoTrID))
	if m, _ := msnp.ParseMessage(got.Payload); m.TypingUser() != "bob@lab.test" {
		t.Errorf("alice got %q, want typing from bob", got.Payload)
	}
	// Bob -> Alice with N: delivered, no reply.
	text, _ = msnp.NewTextMessage("hi alice").Bytes()
	sb.SendMsg(msnp.AckNegative, text)
	got = must(t)(sa.Expect("MSG", msnp.NoTrID))
	if got.Arg(0) != "bob@lab.test" {
		t.Errorf("alice got %v", got)
	}
	// Multi-party: bob invites carol.
	wantErr(t, sb, msnp.CodeAlreadyThere, "CAL", "alice@lab.test")
	must(t)(sb.Call("CAL", "carol@lab.test"))
	rng = must(t)(carol.Expect("RNG", msnp.NoTrID))
	sc, _ := labclient.Dial(ctx, rng.Arg(1))
	defer sc.Close()
	cid, _ := sc.Send("ANS", "carol@lab.test", rng.Arg(3), rng.Arg(0))
	must(t)(sc.Expect("ANS", cid))
	if n := len(sc.Backlog()); n != 2 {
		t.Errorf("carol got %d IRO lines, want 2", n)
	}
	must(t)(sa.Expect("JOI", msnp.NoTrID))
	must(t)(sb.Expect("JOI", msnp.NoTrID))
	text, _ = msnp.NewTextMessage("to all").Bytes()
	id, _ = sc.SendMsg(msnp.AckFull, text)
	must(t)(sa.Expect("MSG", msnp.NoTrID))
	must(t)(sb.Expect("MSG", msnp.NoTrID))
	must(t)(sc.Expect("ACK", id))
	// Bob leaves: the others get BYE.
	sb.Send("OUT")
	if bye := must(t)(sa.Expect("BYE", msnp.NoTrID)); bye.Arg(0) != "bob@lab.test" {
		t.Errorf("BYE = %v", bye)
	}
	must(t)(sc.Expect("BYE", msnp.NoTrID))
	// Calling someone offline.
	wantErr(t, sa, msnp.CodeNotOnline, "CAL", "nobody@lab.test")
	// Oversized message closes the connection.
	sc.W.Write(msnp.Command{Name: "MSG", TrID: 99, Args: []string{"A"}, Payload: make([]byte, msnp.MaxClientPayload+1)})
	expectClosed(t, sc)
	must(t)(sa.Expect("BYE", msnp.NoTrID))
}

func TestPrivacy(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		lb.addUser(u+"@lab.test", pw, u)
	}
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	bob := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)
	carol := lb.signIn("carol@lab.test", pw, msnp.StatusOnline)
	friends(t, alice, bob, "alice@lab.test", "bob@lab.test")
	must(t)(carol.Call("ADD", "FL", "alice@lab.test", "alice", "0"))
	if st := expectPresence(t, carol, "alice@lab.test"); st != msnp.StatusOnline {
		t.Fatalf("carol sees alice %s", st)
	}
	if st := expectPresence(t, bob, "alice@lab.test"); st != msnp.StatusOnline {
		t.Fatalf("bob sees alice %s", st)
	}
	// Alice blocks bob: bob sees FLN and cannot CAL her.
	must(t)(alice.Call("REM", "AL", "bob@lab.test"))
	must(t)(alice.Call("ADD", "BL", "bob@lab.test", "bob"))
	if st := expectPresence(t, bob, "alice@lab.test"); st != msnp.StatusOffline {
		t.Errorf("blocked bob sees alice %s, want FLN", st)
	}
	must(t)(alice.Call("CHG", "BSY", "0"))
	if st := expectPresence(t, carol, "alice@lab.test"); st != msnp.StatusBusy {
		t.Errorf("carol sees alice %s, want BSY", st)
	}
	xfr := must(t)(bob.Call("XFR", "SB"))
	sb, _ := labclient.Dial(context.Background(), xfr.Arg(1))
	defer sb.Close()
	must(t)(sb.Call("USR", "bob@lab.test", xfr.Arg(3)))
	wantErr(t, sb, msnp.CodeNotOnline, "CAL", "alice@lab.test")
	// Bob signing in again gets no ILN for alice.
	bob.Close()
	bob2 := lb.signIn("bob@lab.test", pw, "")
	id, _ := bob2.Send("CHG", "NLN", "0")
	must(t)(bob2.Expect("CHG", id))
	bob2.W.Write(msnp.New("PNG", msnp.NoTrID))
	must(t)(bob2.Expect("QNG", msnp.NoTrID))
	for _, cmd := range bob2.Backlog() {
		if cmd.Name == "ILN" && cmd.Arg(1) == "alice@lab.test" {
			t.Errorf("blocked bob got %v", cmd)
		}
	}
	// BLP BL: carol (not on AL) loses sight of alice; bob (on BL) stays blind.
	must(t)(alice.Call("BLP", "BL"))
	if st := expectPresence(t, carol, "alice@lab.test"); st != msnp.StatusOffline {
		t.Errorf("with BLP BL carol sees alice %s, want FLN", st)
	}
	must(t)(alice.Call("ADD", "AL", "carol@lab.test", "carol"))
	if st := expectPresence(t, carol, "alice@lab.test"); st != msnp.StatusBusy {
		t.Errorf("carol on AL sees alice %s, want BSY", st)
	}
	// Unblock bob.
	must(t)(alice.Call("REM", "BL", "bob@lab.test"))
	must(t)(alice.Call("ADD", "AL", "bob@lab.test", "bob"))
	if st := expectPresence(t, bob2, "alice@lab.test"); st != msnp.StatusBusy {
		t.Errorf("unblocked bob sees alice %s, want BSY", st)
	}
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	lb := startLab(t, dir, nil)
	lb.addUser("alice@lab.test", pw, "Alice")
	lb.addUser("bob@lab.test", pw, "Bob")
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	must(t)(alice.Call("ADD", "FL", "bob@lab.test", "Bob", "0"))
	must(t)(alice.Call("ADD", "BL", "bob@lab.test", "Bob"))
	must(t)(alice.Call("BLP", "BL"))
	ver := must(t)(alice.Call("REA", "alice@lab.test", "Alice%20Two")).Arg(0)
	// Shutdown tells the client OUT SSD.
	lb.stop()
	if out := must(t)(alice.Expect("OUT", msnp.NoTrID)); out.Arg(0) != "SSD" {
		t.Errorf("on shutdown got %v, want OUT SSD", out)
	}
	lb = startLab(t, dir, nil)
	c, err := labclient.SignIn(context.Background(), lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
	if err != nil {
		t.Fatalf("sign-in after restart: %v", err)
	}
	defer c.Close()
	syn := must(t)(c.Call("SYN", "0"))
	if syn.Arg(0) != ver || syn.Arg(1) != "1" {
		t.Errorf("SYN after restart = %v, want version %s with 1 contact", syn, ver)
	}
	blp := must(t)(c.Expect("BLP", msnp.NoTrID))
	lst := must(t)(c.Expect("LST", msnp.NoTrID))
	if blp.Arg(0) != "BL" || strings.Join(lst.Args, " ") != "bob@lab.test Bob 5 0" {
		t.Errorf("after restart BLP %v, LST %v", blp, lst)
	}
}

func TestChallenge(t *testing.T) {
	lb := startLab(t, t.TempDir(), func(c *Config) {
		c.ChallengeInterval = 300 * time.Millisecond
		c.ChallengeTimeout = 2 * time.Second
	})
	lb.addUser("alice@lab.test", pw, "")
	ctx := context.Background()
	// Answered correctly (automatically) at sign-in and periodically.
	c, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		must(t)(c.Expect("QRY", labclient.Any))
	}
	// A wrong answer: 540 and closed.
	c2, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.AutoQRY = false
	must(t)(c2.Expect("CHL", 0))
	id := c2.NextTrID()
	c2.W.Write(msnp.Command{Name: "QRY", TrID: id, Args: []string{msnp.ProductID}, Payload: []byte(msnp.ChallengeResponse("0"))})
	if _, err := c2.Expect("QRY", id); err == nil || !strings.Contains(err.Error(), "540") {
		t.Errorf("wrong QRY = %v, want 540", err)
	}
	expectClosed(t, c2)
	// No answer at all: closed after the timeout.
	c3, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	c3.AutoQRY = false
	start := time.Now()
	expectClosed(t, c3)
	if d := time.Since(start); d < time.Second {
		t.Errorf("unanswered challenge closed after %v, want about 2s", d)
	}
	// PNG -> QNG.
	c4 := lb.signIn("alice@lab.test", pw, "")
	c4.Send("PNG")
	must(t)(c4.Expect("QNG", msnp.NoTrID))
}

func TestDispatchRedirect(t *testing.T) {
	lb := startLab(t, t.TempDir(), func(c *Config) { c.NSAddr = "split" })
	lb.addUser("alice@lab.test", pw, "")
	c, err := labclient.Dial(context.Background(), lb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	must(t)(c.Call("VER", "MSNP8", "CVR0"))
	id, _ := c.Send("USR", "TWN", "I", "alice@lab.test")
	xfr := must(t)(c.Expect("XFR", id))
	if xfr.Arg(0) != "NS" || xfr.Arg(1) == lb.addr {
		t.Errorf("XFR = %v, want NS to the other listener", xfr)
	}
	// SignIn follows the redirect.
	lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
}

func TestMalformedInputCloses(t *testing.T) {
	lb := startLab(t, t.TempDir(), nil)
	for _, in := range []string{
		"VER 1 MSNP8\r\n" + strings.Repeat("A", 5000) + "\r\n",
		"garbage\r\n",
		"VER 1 MSNP8\r\nusr 2 x\r\n",
		"VER 1 MSNP8\r\nMSG 2 A 99999\r\n",
	} {
		c, err := net.Dial("tcp", lb.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(in))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("input %.20q: read %v, want close", in, err)
		}
		if strings.Contains(string(b), "USR") {
			t.Errorf("input %.20q: got %q", in, b)
		}
		c.Close()
	}
	// The server still works.
	lb.addUser("alice@lab.test", pw, "")
	lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
}
