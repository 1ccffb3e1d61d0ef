// Command loadtest drives messengerd with many real MSNP8 clients: each does
// the full sign-in (Passport nexus and login over HTTPS, then VER, CVR, USR
// TWN I/S, SYN, CHG), all stay signed in answering CHL and sending PNG, and
// pairs of them exchange acknowledged messages (ack mode A) in switchboard
// sessions. It reports sign-ins per second, the server's resident memory per
// signed-in client (with -pid), and message round-trip latency (MSG sent to
// ACK received) percentiles.
//
//	loadtest -data DIR -create          # create the accounts first
//	loadtest -addr 127.0.0.1:1863 -nexus https://127.0.0.1:8443/rdr/pprdr.asp \
//	    -ca DIR/ca.pem -pid PID -clients 10000 -convs 100 -rate 10000 -duration 10s
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	data, addr, nexus, ca, password, prefix string
	create, tlsReuse                        bool
	pid, clients, convs, rate, conc         int
	duration, hold, ping                    time.Duration
}

// Report is the JSON summary printed at the end.
type Report struct {
	Clients         int     `json:"clients"`
	SignInFailures  int     `json:"signin_failures"`
	SignInSeconds   float64 `json:"signin_seconds"`
	SignInsPerSec   float64 `json:"signins_per_sec"`
	ServerRSSBefore int64   `json:"server_rss_before_bytes,omitempty"`
	ServerRSSAfter  int64   `json:"server_rss_after_bytes,omitempty"`
	BytesPerClient  int64   `json:"server_bytes_per_client,omitempty"`
	// The same for the anonymous memory only (RssAnon: heap and stacks,
	// not the binary's code pages that signing in touched).
	ServerAnonBefore   int64   `json:"server_anon_before_bytes,omitempty"`
	ServerAnonAfter    int64   `json:"server_anon_after_bytes,omitempty"`
	AnonBytesPerClient int64   `json:"server_anon_bytes_per_client,omitempty"`
	Convs              int     `json:"conversations"`
	TargetRate         int     `json:"target_msgs_per_sec"`
	Sent               int64   `json:"msgs_sent"`
	Acked              int64   `json:"msgs_acked"`
	Naked              int64   `json:"msgs_naked"`
	Received           int64   `json:"msgs_received"`
	AchievedRate       float64 `json:"achieved_msgs_per_sec"`
	P50us              float64 `json:"rtt_p50_us"`
	P90us              float64 `json:"rtt_p90_us"`
	P99us              float64 `json:"rtt_p99_us"`
	P999us             float64 `json:"rtt_p999_us"`
	MaxUs              float64 `json:"rtt_max_us"`
	Dropped            int     `json:"clients_dropped"`
	// CPU seconds (user+system) used in the sign-in and message phases by
	// the load tool itself and (with -pid) by the server.
	ToolSignInCPU   float64 `json:"tool_signin_cpu_seconds"`
	ToolMsgCPU      float64 `json:"tool_msgs_cpu_seconds"`
	ServerSignInCPU float64 `json:"server_signin_cpu_seconds,omitempty"`
	ServerMsgCPU    float64 `json:"server_msgs_cpu_seconds,omitempty"`
	MsgSeconds      float64 `json:"msgs_seconds"`
}

// selfCPU is this process's user+system CPU time in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procCPU is a process's user+system CPU time in seconds, from
// /proc/PID/stat (0 when unknown).
func procCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "messengerd data directory (with -create: where to create the accounts)")
	fs.BoolVar(&o.create, "create", false, "create the load accounts in -data and exit")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:1863", "messengerd MSNP address")
	fs.StringVar(&o.nexus, "nexus", "https://127.0.0.1:8443/rdr/pprdr.asp", "Passport nexus URL")
	fs.StringVar(&o.ca, "ca", "", "CA certificate to trust (messengerd's DATA/ca.pem)")
	fs.StringVar(&o.password, "password", "load-test-pw", "password of every load account")
	fs.StringVar(&o.prefix, "prefix", "load", "accounts are PREFIX00000@load.test ...")
	fs.BoolVar(&o.tlsReuse, "tls-reuse", false, "share one keep-alive HTTPS connection pool for logins (default: each client its own keep-alive connection, one TLS handshake for nexus and login)")
	fs.IntVar(&o.pid, "pid", 0, "messengerd process id, to measure its resident memory")
	fs.IntVar(&o.clients, "clients", 1000, "clients to sign in and hold")
	fs.IntVar(&o.conc, "concurrency", 32, "sign-ins in flight at once")
	fs.IntVar(&o.convs, "convs", 100, "conversations (client pairs in switchboard sessions)")
	fs.IntVar(&o.rate, "rate", 10000, "total messages per second across all conversations")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send messages")
	fs.DurationVar(&o.hold, "hold", 5*time.Second, "hold all clients this long before measuring server memory")
	fs.DurationVar(&o.ping, "ping", 45*time.Second, "PNG interval per client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.create {
		return createAccounts(ctx, o, stdout)
	}
	if o.ca == "" {
		return errors.New("-ca is required: give messengerd's DATA/ca.pem")
	}
	if o.convs*2 > o.clients {
		return fmt.Errorf("-convs %d needs at least %d clients", o.convs, o.convs*2)
	}
	pem, err := os.ReadFile(o.ca)
	if err != nil {
		return fmt.Errorf("read -ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("-ca %s holds no PEM certificate", o.ca)
	}
	tlsCfg := &tls.Config{RootCAs: pool}
	shared := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: o.conc}}

	var rep Report
	rep.Clients, rep.Convs, rep.TargetRate = o.clients, o.convs, o.rate
	if o.pid > 0 {
		rep.ServerRSSBefore = rss(o.pid)
		rep.ServerAnonBefore = anonRSS(o.pid)
	}

	// Phase 1: sign in everyone.
	clients := make([]*labclient.Conn, o.clients)
	var failures atomic.Int64
	var next atomic.Int64
	var firstErr firstError
	start := time.Now()
	tool0, srv0 := selfCPU(), procCPU(o.pid)
	var wg sync.WaitGroup
	for w := 0; w < o.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= o.clients || ctx.Err() != nil {
					return
				}
				hc := shared
				if !o.tlsReuse {
					// The client's own keep-alive connection: one TLS
					// handshake for the nexus and the login request.
					hc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 1}}
				}
				c, err := signIn(ctx, hc, o, account(o.prefix, i))
				if err != nil {
					failures.Add(1)
					firstErr.set(err)
					continue
				}
				clients[i] = c
			}
		}()
	}
	wg.Wait()
	rep.SignInSeconds = time.Since(start).Seconds()
	rep.ToolSignInCPU, rep.ServerSignInCPU = selfCPU()-tool0, procCPU(o.pid)-srv0
	rep.SignInFailures = int(failures.Load())
	rep.SignInsPerSec = float64(o.clients-rep.SignInFailures) / rep.SignInSeconds
	fmt.Fprintf(stderr, "signed in %d/%d clients in %.2fs (%.0f/s)\n", o.clients-rep.SignInFailures, o.clients, rep.SignInSeconds, rep.SignInsPerSec)
	fmt.Fprintf(stderr, "CPU while signing in: load tool %.2fs, server %.2fs\n", rep.ToolSignInCPU, rep.ServerSignInCPU)
	if e := firstErr.get(); e != nil {
		fmt.Fprintf(stderr, "first sign-in error: %v\n", e)
	}
	if rep.SignInFailures > 0 && rep.SignInFailures == o.clients {
		return fmt.Errorf("no client signed in: %w", firstErr.get())
	}

	// Phase 2: conversations (set up while NS reads are still synchronous).
	type conv struct{ a, b *labclient.Conn }
	var convs []conv
	for i := 0; i < o.convs; i++ {
		a, b := clients[2*i], clients[2*i+1]
		if a == nil || b == nil {
			continue
		}
		sa, sb, err := openConversation(ctx, a, b, account(o.prefix, 2*i), account(o.prefix, 2*i+1))
		if err != nil {
			return fmt.Errorf("conversation %d: %w", i, err)
		}
		convs = append(convs, conv{sa, sb})
	}

	// Keepalive: background readers answer CHL, PNG on a timer.
	var dropped atomic.Int64
	for _, c := range clients {
		if c == nil {
			continue
		}
		go func(c *labclient.Conn) {
			c.Timeout = 0
			c.SetReadDeadline(time.Time{})
			for {
				if _, err := c.Read(); err != nil {
					if ctx.Err() == nil {
						dropped.Add(1)
					}
					return
				}
			}
		}(c)
	}
	go func() {
		t := time.NewTicker(o.ping)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, c := range clients {
					if c != nil {
						c.W.Write(msnp.New("PNG", msnp.NoTrID))
					}
				}
			}
		}
	}()

	// Phase 3: hold and measure server memory.
	if o.pid > 0 {
		select {
		case <-time.After(o.hold):
		case <-ctx.Done():
			return ctx.Err()
		}
		rep.ServerRSSAfter = rss(o.pid)
		rep.ServerAnonAfter = anonRSS(o.pid)
		if n := int64(o.clients - rep.SignInFailures); n > 0 {
			rep.BytesPerClient = (rep.ServerRSSAfter - rep.ServerRSSBefore) / n
			rep.AnonBytesPerClient = (rep.ServerAnonAfter - rep.ServerAnonBefore) / n
		}
		fmt.Fprintf(stderr, "server RSS %d -> %d bytes: %d bytes per signed-in client (anonymous memory only: %d)\n", rep.ServerRSSBefore, rep.ServerRSSAfter, rep.BytesPerClient, rep.AnonBytesPerClient)
	}

	// Phase 4: messages both ways in every conversation at the target rate.
	if len(convs) > 0 && o.rate > 0 && o.duration > 0 {
		senders := make([]*sender, 0, 2*len(convs))
		for _, cv := range convs {
			senders = append(senders, newSender(cv.a), newSender(cv.b))
		}
		interval := time.Duration(float64(time.Second) * float64(len(senders)) / float64(o.rate))
		mctx, cancel := context.WithTimeout(ctx, o.duration)
		var rwg, swg sync.WaitGroup
		for i, s := range senders {
			rwg.Add(1)
			swg.Add(1)
			go func() { defer rwg.Done(); s.readLoop() }()
			go func() {
				defer swg.Done()
				// Spread the senders' start times over one interval.
				time.Sleep(interval * time.Duration(i) / time.Duration(len(senders)))
				s.sendLoop(mctx, interval)
			}()
		}
		start := time.Now()
		tool0, srv0 := selfCPU(), procCPU(o.pid)
		<-mctx.Done()
		elapsed := time.Since(start)
		rep.ToolMsgCPU, rep.ServerMsgCPU = selfCPU()-tool0, procCPU(o.pid)-srv0
		rep.MsgSeconds = elapsed.Seconds()
		cancel()
		swg.Wait()
		// Let the last ACKs arrive (up to 10 s), then stop the readers.
		drain := time.Now().Add(10 * time.Second)
		for time.Now().Before(drain) && outstanding(senders) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		var lat []time.Duration
		for _, s := range senders {
			s.conn.Close()
		}
		rwg.Wait()
		for _, s := range senders {
			s.mu.Lock()
			lat = append(lat, s.lat...)
			rep.Sent += s.sent
			rep.Naked += s.naks
			rep.Received += s.recv
			s.mu.Unlock()
		}
		rep.Acked = int64(len(lat))
		rep.AchievedRate = float64(rep.Sent) / elapsed.Seconds()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
		}
		rep.P50us, rep.P90us, rep.P99us, rep.P999us = pct(0.50), pct(0.90), pct(0.99), pct(0.999)
		if len(lat) > 0 {
			rep.MaxUs = float64(lat[len(lat)-1].Microseconds())
		}
		fmt.Fprintf(stderr, "CPU while sending: load tool %.2fs, server %.2fs over %.1fs\n", rep.ToolMsgCPU, rep.ServerMsgCPU, rep.MsgSeconds)
		fmt.Fprintf(stderr, "messages: sent %d acked %d naked %d received %d at %.0f/s; RTT p50 %.0fus p90 %.0fus p99 %.0fus p99.9 %.0fus max %.0fus\n",
			rep.Sent, rep.Acked, rep.Naked, rep.Received, rep.AchievedRate, rep.P50us, rep.P90us, rep.P99us, rep.P999us, rep.MaxUs)
	}
	rep.Dropped = int(dropped.Load())
	for _, c := range clients {
		if c != nil {
			c.Close()
		}
	}
	b, _ := json.Marshal(rep)
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

// firstError keeps the first of many errors from concurrent workers. (An
// atomic.Value cannot: it panics when the errors have different types, as
// they do when the server dies mid-run and some clients fail to log in
// while others fail to connect.)
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func account(prefix string, i int) string { return fmt.Sprintf("%s%05d@load.test", prefix, i) }

func signIn(ctx context.Context, hc *http.Client, o options, email string) (*labclient.Conn, error) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := labclient.SignIn(sctx, hc, o.addr, o.nexus, email, o.password)
	if !o.tlsReuse {
		hc.CloseIdleConnections()
	}
	if err != nil {
		return nil, err
	}
	c.Timeout = 60 * time.Second
	if _, err := c.Call("SYN", "0"); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Call("CHG", "NLN", "0"); err != nil {
		c.Close()
		return nil, err
	}
	c.Backlog()
	return c, nil
}

// openConversation makes a switchboard session between a and b.
func openConversation(ctx context.Context, a, b *labclient.Conn, ae, be string) (*labclient.Conn, *labclient.Conn, error) {
	xfr, err := a.Call("XFR", "SB")
	if err != nil {
		return nil, nil, err
	}
	sa, err := labclient.Dial(ctx, xfr.Arg(1))
	if err != nil {
		return nil, nil, err
	}
	if _, err := sa.Call("USR", ae, xfr.Arg(3)); err != nil {
		return nil, nil, err
	}
	if _, err := sa.Call("CAL", be); err != nil {
		return nil, nil, err
	}
	rng, err := b.Expect("RNG", msnp.NoTrID)
	if err != nil {
		return nil, nil, err
	}
	sb, err := labclient.Dial(ctx, rng.Arg(1))
	if err != nil {
		return nil, nil, err
	}
	id, _ := sb.Send("ANS", be, rng.Arg(3), rng.Arg(0))
	if _, err := sb.Expect("ANS", id); err != nil {
		return nil, nil, err
	}
	if _, err := sa.Expect("JOI", msnp.NoTrID); err != nil {
		return nil, nil, err
	}
	sa.Backlog()
	sb.Backlog()
	return sa, sb, nil
}

// sender sends acknowledged messages on one switchboard connection and
// measures the time to each ACK.
type sender struct {
	conn    *labclient.Conn
	payload []byte
	mu      sync.Mutex
	sentAt  map[int]time.Time
	lat     []time.Duration
	sent    int64
	naks    int64
	recv    int64
}

func newSender(c *labclient.Conn) *sender {
	p, _ := msnp.NewTextMessage("load test message: the quick brown fox jumps over the lazy dog").Bytes()
	return &sender{conn: c, payload: p, sentAt: map[int]time.Time{}}
}

func (s *sender) sendLoop(ctx context.Context, interval time.Duration) {
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		id := s.conn.NextTrID()
		now := time.Now()
		s.mu.Lock()
		s.sentAt[id] = now
		s.sent++
		s.mu.Unlock()
		if err := s.conn.W.Write(msnp.Command{Name: "MSG", TrID: id, Args: []string{"A"}, Payload: s.payload}); err != nil {
			return
		}
	}
}

func (s *sender) readLoop() {
	s.conn.Timeout = 0
	s.conn.SetReadDeadline(time.Time{})
	for {
		cmd, err := s.conn.Read()
		if err != nil {
			return
		}
		now := time.Now()
		s.mu.Lock()
		switch cmd.Name {
		case "ACK":
			if t, ok := s.sentAt[cmd.TrID]; ok {
				s.lat = append(s.lat, now.Sub(t))
				delete(s.sentAt, cmd.TrID)
			}
		case "NAK":
			s.naks++
			delete(s.sentAt, cmd.TrID)
		case "MSG":
			s.recv++
		}
		s.mu.Unlock()
	}
}

// outstanding counts messages sent but not yet ACKed or NAKed, plus
// acknowledged messages the other side has not read yet.
func outstanding(ss []*sender) int {
	var n, acked, recv int
	for _, s := range ss {
		s.mu.Lock()
		n += len(s.sentAt)
		acked += len(s.lat)
		recv += int(s.recv)
		s.mu.Unlock()
	}
	return n + max(acked-recv, 0)
}

// rss returns a process's resident set size in bytes, or 0.
func rss(pid int) int64 { return statusKB(pid, "VmRSS:") }

// anonRSS returns the anonymous part of a process's resident set (heap,
// stacks: what the process itself allocated, without the pages of its
// binary and files it touched), or 0.
func anonRSS(pid int) int64 { return statusKB(pid, "RssAnon:") }

// statusKB reads one kB field of /proc/PID/status as bytes.
func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// createAccounts adds the load accounts to the store (existing ones are kept).
func createAccounts(ctx context.Context, o options, stdout io.Writer) error {
	if o.data == "" {
		return errors.New("-create needs -data DIR (messengerd's data directory)")
	}
	st, err := store.Open(o.data)
	if err != nil {
		return err
	}
	defer st.Close()
	var next atomic.Int64
	var made atomic.Int64
	var firstErr firstError
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= o.clients || ctx.Err() != nil {
					return
				}
				err := st.AddUser(ctx, account(o.prefix, i), o.password, "")
				if err == nil {
					made.Add(1)
				} else if !errors.Is(err, store.ErrExists) {
					firstErr.set(err)
				}
			}
		}()
	}
	wg.Wait()
	if e := firstErr.get(); e != nil {
		return e
	}
	fmt.Fprintf(stdout, "created %d accounts (%s00000@load.test ... %s)\n", made.Load(), o.prefix, account(o.prefix, o.clients-1))
	return nil
}
