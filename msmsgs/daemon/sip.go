package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
	"github.com/oemkit/messenger/msmsgs/msnp"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
)

// newClients builds the .NET Messenger client and, with sip.uri, the SIP
// account beside it; a SIP account alone gets no .NET Messenger client
// (nil). Both publish on the daemon's event stream.
func (d *Daemon) newClients(s *config.Settings, l *msgslang.Catalog, log *slog.Logger) (*client.Client, error) {
	var cl *client.Client
	var err error
	switch {
	case s.SIP.Configured() && s.Account == "":
		d.sipAlone = true
	case s.Account == "":
		// No account yet: the daemon waits for signin (signin.go).
	default:
		cl, err = newClient(s, l, log, d.onInvite, d.events)
	}
	if err != nil || !s.SIP.Configured() {
		return cl, err
	}
	var st msnp.Status
	if s.Status != "" {
		st, _ = ctlproto.ParseStatus(s.Status, l)
	}
	d.sip, err = sipaccount.New(sipaccount.Config{
		UA:       sipua.Config{URI: s.SIP.URI, Server: s.SIP.Server, Kerberos: s.SIP.Kerberos()},
		Krb5Conf: s.Krb5ConfPath(), ContactsFile: contactsFile(s), Status: st, Publish: d.events.Publish,
		LastSeq:    d.events.LastSeq,
		BackoffMin: s.Timers.BackoffMin, BackoffMax: s.Timers.BackoffMax, Logger: log,
	})
	return cl, err
}

// SIP is the daemon's SIP account, or nil.
func (d *Daemon) SIP() *sipaccount.Account { return d.sip }

// runAccounts runs the accounts until ctx ends: both at once when both
// are configured.
func (d *Daemon) runAccounts(ctx context.Context) error {
	if d.sip == nil {
		if d.cl == nil { // waiting for signin (signin.go)
			<-ctx.Done()
			return nil
		}
		return d.cl.Run(ctx)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = d.sip.Run(ctx)
	}()
	var err error
	if d.sipAlone || d.cl == nil {
		<-ctx.Done()
	} else {
		err = d.cl.Run(ctx)
	}
	wg.Wait()
	return err
}

// executeSIP is the hook of Execute: the commands the SIP account answers
// (sipaccount.Routes), and ok=false for the rest.
func (d *Daemon) executeSIP(ctx context.Context, args []string) (any, bool, error) {
	if d.sip == nil || !sipaccount.Routes(args, d.sipAlone) {
		return nil, false, nil
	}
	res, err := d.sip.Execute(ctx, args, d.lang)
	return res, true, err
}

// contactsFile is where the SIP account keeps its contacts: in
// msmsgs.state_dir, or nowhere without one.
func contactsFile(s *config.Settings) string {
	if s.StateDir == "" {
		return ""
	}
	return filepath.Join(s.StateDir, "sip-contacts.json")
}

// SIPOnly reports a daemon whose only account is the SIP account.
func (d *Daemon) SIPOnly() bool { return d.sip != nil && d.sipAlone }
