// Package daemon is the msmsgs daemon as a library: one signed-in
// Messenger client, its file transfers, and the commands that drive them.
// Commands go in (Execute, or the control socket through Serve) and events
// come out (Subscribe). Other components plug in beside the built-in
// commands: Register adds control commands, HandleInvite adds handlers for
// invitations received in conversations, and Publish puts their events on
// the same stream. The console and `msmsgs ctl` are two front ends of it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/passport"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
	"github.com/oemkit/messenger/msmsgs/events"
	"github.com/oemkit/messenger/msmsgs/msnp"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// Daemon is one signed-in user: client, file transfers and commands.
type Daemon struct {
	lang *msgslang.Catalog
	log  *slog.Logger
	cl   *client.Client // nil when the SIP account is the only one
	ft   *transfer.Manager
	// events is the stream both accounts and the components publish on.
	events *events.Stream

	// sip is the SIP Communications Service account (sip.go); nil
	// without sip.uri. sipAlone: no .NET Messenger account beside it.
	sip      *sipaccount.Account
	sipAlone bool

	mu       sync.Mutex
	commands map[string]Command
	invites  []client.InviteFunc
	calls    callService // voice (calls.go)

	// Sign-in at run time (signin.go): the settings without an account,
	// nil when the account comes from the settings; the Run context; the
	// client signin started, its stop and end.
	signinSettings *config.Settings
	runCtx         context.Context
	signing        bool
	stopClient     context.CancelFunc
	clientDone     chan struct{}
}

// Command is a control command a component adds to the daemon. Spec's
// Min and Max bound all the arguments after the command name (flags
// included: Run parses its own).
type Command struct {
	ctlproto.Spec
	// Run executes the command with its arguments (flags included, the
	// command name not). A streaming command calls emit per event and
	// returns when ctx ends. The result is encoded as JSON; a string is
	// printed as is by `msmsgs ctl`.
	Run func(ctx context.Context, args []string, emit func(client.Event) error) (any, error)
}

// New builds the daemon from validated settings (see config.Settings.
// Validate): l gives every user-visible text, log receives the log.
func New(s *config.Settings, l *msgslang.Catalog, log *slog.Logger) (*Daemon, error) {
	if l == nil {
		return nil, errors.New("daemon: no Lang catalog")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ft, err := transfer.New(transfer.Config{
		Downloads: s.DownloadsDir(), Ports: s.FTPorts, MaxSize: s.FTMaxSize, Address: s.FTAddress,
		SendRate: s.FTSendRate, AutoAccept: s.FTAutoAccept, Lang: l, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	d := &Daemon{lang: l, log: log, ft: ft, events: &events.Stream{}, commands: make(map[string]Command)}
	d.invites = []client.InviteFunc{ft.OnInvite}
	cl, err := d.newClients(s, l, log)
	if err != nil {
		return nil, err
	}
	d.cl = cl
	if err := addSignin(d, s); err != nil { // signin.go
		return nil, err
	}
	if err := addViewers(d, s); err != nil { // viewers.go
		return nil, err
	}
	if d.calls, err = newCalls(d, s); err != nil {
		return nil, err
	}
	return d, nil
}

// Client is the daemon's .NET Messenger client; nil when the daemon has
// only a SIP account (see SIPOnly).
func (d *Daemon) Client() *client.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cl
}

// Transfers is the daemon's file transfer manager.
func (d *Daemon) Transfers() *transfer.Manager { return d.ft }

// Lang is the catalog of the daemon's user-visible texts.
func (d *Daemon) Lang() *msgslang.Catalog { return d.lang }

// Subscribe returns a subscription to the event stream (see
// client.Client.Subscribe).
func (d *Daemon) Subscribe(buf int) (*client.Subscription, []client.Event, uint64) {
	return d.events.Subscribe(buf)
}

// Publish puts a component's event on the event stream.
func (d *Daemon) Publish(e client.Event) client.Event { return d.events.Publish(e) }

// LastSeq is the event stream's last sequence number.
func (d *Daemon) LastSeq() uint64 { return d.events.LastSeq() }

// Register adds a control command. It fails for a name already taken.
func (d *Daemon) Register(name string, c Command) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !ctlproto.ValidName(name) {
		return fmt.Errorf("daemon: command name %q: want a lowercase word of letters and hyphens of at most %d bytes (msmsgs ctl sends no other)", name, ctlproto.MaxName)
	}
	if _, ok := ctlproto.Lookup(name); ok {
		return fmt.Errorf("daemon: command %q is built in", name)
	}
	if _, ok := d.commands[name]; ok || c.Run == nil {
		return fmt.Errorf("daemon: command %q already registered or without Run", name)
	}
	d.commands[name] = c
	return nil
}

// HandleInvite adds a handler for text/x-msmsgsinvite messages; handlers
// are asked in order until one reports the invitation as handled. A
// handler runs on the conversation's reader and must not block.
func (d *Daemon) HandleInvite(f client.InviteFunc) {
	d.mu.Lock()
	d.invites = append(d.invites, f)
	d.mu.Unlock()
}

func (d *Daemon) onInvite(conv *client.Conversation, from string, fields msnp.Header) bool {
	d.mu.Lock()
	hs := append([]client.InviteFunc(nil), d.invites...)
	d.mu.Unlock()
	for _, h := range hs {
		if h(conv, from, fields) {
			return true
		}
	}
	return false
}

// Run signs in and keeps the user signed in, with file transfers, until
// ctx ends; it waits for running transfers to stop before it returns.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d.cl != nil { // file transfers are the .NET Messenger account's
		d.ft.Start(ctx, d.cl)
	}
	stopCalls := d.calls.start(ctx)
	d.mu.Lock()
	d.runCtx = ctx
	d.mu.Unlock()
	err := d.runAccounts(ctx)
	cancel()
	d.mu.Lock()
	done := d.clientDone // a client signin started ends with ctx
	d.mu.Unlock()
	if done != nil {
		<-done
	}
	stopCalls()
	d.ft.Stop()
	return err
}

// debianRoots is the system CA bundle used on a development host that has
// no device certificate store.
const debianRoots = "/etc/ssl/certs/ca-certificates.crt"

// certStore loads the trusted roots: the device certificate store (the
// OS design's roots) plus the extra CA file. On a host without a device
// store, the system bundle stands in for it.
func certStore(dir, caFile string) (*certs.Store, error) {
	if dir == "" {
		dir = certs.DefaultRootDir
	}
	cfg := certs.Config{RootDir: dir, ExtraCAFile: caFile}
	if _, err := os.Stat(dir); err != nil {
		if _, err := os.Stat(debianRoots); err == nil {
			cfg.RootFiles = []string{debianRoots}
		}
	}
	st, err := certs.Load(cfg)
	if err != nil {
		return nil, fmt.Errorf("msmsgs: certificate store: %w (check -ca and msmsgs.cert_dir)", err)
	}
	return st, nil
}

// newClient builds the messenger client from validated settings: Passport
// through the device HTTP client, NS/SB connections through the device
// MSN dialer (direct, SOCKS, HTTP CONNECT or the HTTP gateway).
func newClient(s *config.Settings, l *msgslang.Catalog, log *slog.Logger, onInvite client.InviteFunc, ev *events.Stream) (*client.Client, error) {
	store, err := certStore(s.CertDir, s.CAFile)
	if err != nil {
		return nil, err
	}
	wcfg := wininet.Config{Proxy: s.Proxy, Certs: store, MaxRedirects: -1}
	hc, err := wininet.NewClient(wcfg)
	if err != nil {
		return nil, errors.New(l.Text("err.proxy", redactURL(s.Proxy), err))
	}
	md, err := wininet.NewMSNDialer(wcfg, wininet.MSNOptions{HTTPProxyMode: s.ProxyMode, GatewayURL: s.Gateway})
	if err != nil {
		return nil, errors.New(l.Text("err.proxy", redactURL(s.Proxy), err))
	}
	pp := &passport.Client{
		HTTP:      hc,
		Nexus:     s.Nexus,
		AllowHTTP: s.InsecureHTTP,
		Logger:    log,
	}
	var st msnp.Status
	if s.Status != "" {
		st, _ = ctlproto.ParseStatus(s.Status, l)
	}
	return client.New(client.Config{
		Server:       s.Server,
		Account:      s.Account,
		Password:     s.Password,
		Login:        pp.Login,
		Dial:         md.DialContext,
		Status:       st,
		Logger:       log,
		PingInterval: s.Timers.Ping,
		PingTimeout:  s.Timers.PingTimeout,
		BackoffMin:   s.Timers.BackoffMin,
		BackoffMax:   s.Timers.BackoffMax,
		OnInvite:     onInvite,
		Events:       ev,
	})
}

// redactURL hides a password in a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
