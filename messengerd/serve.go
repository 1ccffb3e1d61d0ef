package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/oemkit/messenger/messengerd/labca"
	"github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/server"
	"github.com/oemkit/messenger/messengerd/store"
)

// ready is the JSON line serve prints once it listens.
type ready struct {
	Addr  string `json:"addr"`            // dispatch (and, unless split, notification + switchboard) server
	NS    string `json:"ns,omitempty"`    // notification server when split with -ns
	HTTPS string `json:"https"`           // Passport nexus and login
	HTTP  string `json:"http,omitempty"`  // plain HTTP (gateway)
	Nexus string `json:"nexus"`           // nexus URL for clients
	CA    string `json:"ca"`              // CA certificate clients must trust
	Data  string `json:"data"`            // data directory
	Login string `json:"login,omitempty"` // plain-HTTP nexus URL with -lab-http-login
	Guest string `json:"guest,omitempty"` // listener for QEMU guests (-guest-addr), reached as 10.0.2.2:port
	SIP   string `json:"sip,omitempty"`   // Kerberos SIP service (-sip)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("messengerd serve", flag.ContinueOnError)
	data := fs.String("data", "messengerd-data", "data directory: database, ca.pem (created on first start)")
	addr := fs.String("addr", "127.0.0.1:1863", "MSNP dispatch/notification/switchboard address (port 0: any free port)")
	nsAddr := fs.String("ns", "", "separate notification server address; -addr then only redirects with XFR NS")
	httpsAddr := fs.String("https", "127.0.0.1:8443", "Passport nexus and login (HTTPS) address")
	httpAddr := fs.String("http", "", "plain-HTTP address for the MSN HTTP gateway (empty: none)")
	guestAddr := fs.String("guest-addr", "", "extra MSNP listener for QEMU guests, which reach it as 10.0.2.2:PORT and get switchboards there (empty: none)")
	labHTTPLogin := fs.Bool("lab-http-login", false, "LAB ONLY: also serve Passport login on -http without TLS (passwords in clear text)")
	sbHost := fs.String("sb-host", "", "host given to clients for switchboards (default: the address they reached)")
	certHosts := fs.String("cert-hosts", "", "extra comma-separated names/IPs for the HTTPS certificate")
	chlEvery := fs.Duration("challenge-interval", 10*time.Minute, "how often signed-in clients get a CHL challenge")
	idle := fs.Duration("idle-timeout", 5*time.Minute, "close connections idle this long")
	maxConns := fs.Int("max-conns", 20000, "maximum concurrent MSNP connections")
	maxPending := fs.Int("max-pending-per-addr", 64, "MSNP connections one address may have open before they sign in")
	authTimeout := fs.Duration("auth-timeout", 20*time.Second, "an MSNP connection must sign in within this")
	kdfWorkers := fs.Int("login-workers", 0, "concurrent password checks (0: 2 x CPUs)")
	gcPercent := fs.Int("gc-percent", 50, "Go GC target percentage (like GOGC); lower holds less memory per idle client for a little more CPU")
	verbose := fs.Bool("v", false, "log debug messages")
	pprofAddr := fs.String("pprof", "", "serve Go runtime profiles (net/http/pprof) on this address, for load tests")
	sipF := addSIPFlags(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if *pprofAddr == "" {
		// Without -pprof nobody reads heap profiles: the profiler's
		// sampling and its bucket table (1.4 MB, touched page by page as
		// samples come in) would only cost memory.
		runtime.MemProfileRate = 0
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	ca, err := labca.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	hosts := append([]string(nil), labca.DefaultHosts...)
	for _, h := range strings.Split(*certHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if *sbHost != "" {
		hosts = append(hosts, *sbHost)
	}
	cert, err := ca.ServerCert(hosts)
	if err != nil {
		return err
	}
	key, err := st.Setting(ctx, "ticket-key")
	if err != nil {
		return err
	}
	if key == nil {
		key = passport.NewKey()
		if err := st.SetSetting(ctx, "ticket-key", key); err != nil {
			return err
		}
	}
	tickets, err := passport.NewTickets(key, 24*time.Hour)
	if err != nil {
		return err
	}

	workers := *kdfWorkers
	throttle := &passport.Throttle{} // one for HTTPS and -lab-http-login
	pp := &passport.Service{Auth: st, Tickets: tickets, Log: log, MaxConcurrent: workers, Throttle: throttle}

	var lc net.ListenConfig
	listen := func(what, a string) (net.Listener, error) {
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			return nil, fmt.Errorf("listen %s on %s: %w (pick another address with the flag, or port 0 for any free port)", what, a, err)
		}
		return l, nil
	}
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	mainL, err := listen("-addr", *addr)
	if err != nil {
		return err
	}
	closers = append(closers, mainL)
	var nsL net.Listener
	if *nsAddr != "" {
		if nsL, err = listen("-ns", *nsAddr); err != nil {
			return err
		}
		closers = append(closers, nsL)
	}
	var guestL net.Listener
	if *guestAddr != "" {
		l, err := listen("-guest-addr", *guestAddr)
		if err != nil {
			return err
		}
		closers = append(closers, l)
		guestL = guestListener{l}
	}
	httpsL, err := listen("-https", *httpsAddr)
	if err != nil {
		return err
	}
	closers = append(closers, httpsL)
	var httpL net.Listener
	if *httpAddr != "" {
		if httpL, err = listen("-http", *httpAddr); err != nil {
			return err
		}
		closers = append(closers, httpL)
	}

	cfg := server.Config{
		Store: st, Tickets: tickets, Log: log, SBHost: *sbHost,
		IdleTimeout: *idle, ChallengeInterval: *chlEvery, MaxConns: *maxConns,
		MaxPendingPerAddr: *maxPending, AuthTimeout: *authTimeout,
	}
	if nsL != nil {
		cfg.NSAddr = nsL.Addr().String()
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	pp.Register(mux)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	var hp *http.Server
	r := ready{
		Addr: mainL.Addr().String(), HTTPS: httpsL.Addr().String(),
		Nexus: "https://" + httpsL.Addr().String() + passport.NexusPath,
		CA:    filepath.Join(dir, labca.CertFile), Data: dir,
	}
	if nsL != nil {
		r.NS = nsL.Addr().String()
	}
	if guestL != nil {
		r.Guest = guestL.Addr().String()
	}
	if httpL != nil {
		var others, hosts []string // the gateway relays to these MSNP listeners only
		if r.NS != "" {
			others = append(others, r.NS)
		}
		if r.Guest != "" {
			others, hosts = append(others, r.Guest), append(hosts, GuestHost)
		}
		if *sbHost != "" {
			hosts = append(hosts, *sbHost)
		}
		hmux := newHTTPMux(r.Addr, others, hosts)
		if *labHTTPLogin {
			log.Warn("lab flag -lab-http-login: Passport login is also served over plain HTTP; passwords cross the network in clear text")
			(&passport.Service{Auth: st, Tickets: tickets, Log: log, MaxConcurrent: workers, Throttle: throttle}).Register(hmux)
			r.Login = "http://" + httpL.Addr().String() + passport.NexusPath
		}
		hp = &http.Server{Handler: hmux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		r.HTTP = httpL.Addr().String()
	} else if *labHTTPLogin {
		return usageError{"-lab-http-login needs -http ADDR"}
	}

	if *pprofAddr != "" {
		pl, err := listen("-pprof", *pprofAddr)
		if err != nil {
			return err
		}
		closers = append(closers, pl)
		go http.Serve(pl, pprofMux())
		log.Info("profiles", "url", "http://"+pl.Addr().String()+"/debug/pprof/")
	}
	errc := make(chan error, 8)
	go func() { errc <- hs.ServeTLS(httpsL, "", "") }()
	if hp != nil {
		go func() { errc <- hp.Serve(httpL) }()
	}
	if nsL != nil {
		go func() { errc <- srv.ServeDispatch(mainL) }()
		go func() { errc <- srv.Serve(nsL) }()
	} else {
		go func() { errc <- srv.Serve(mainL) }()
	}
	if guestL != nil {
		go func() { errc <- srv.Serve(guestL) }()
	}
	sipSrv, sipAddr, err := sipF.start(ctx, errc, log)
	if err != nil {
		return err
	}
	if sipSrv != nil {
		defer sipSrv.Close()
		r.SIP = sipAddr
	}
	line, _ := json.Marshal(r)
	fmt.Fprintf(stdout, "%s\n", line)
	log.Info("messengerd ready", "addr", r.Addr, "https", r.HTTPS, "nexus", r.Nexus, "ca", r.CA)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	hs.Shutdown(sctx)
	if hp != nil {
		hp.Shutdown(sctx)
	}
	log.Info("messengerd stopped")
	return runErr
}
