package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/oemkit/messenger/messengerd/sip"
)

// sipFlags are the serve flags of the SIP Communications Service.
type sipFlags struct {
	addr, keytab, service, domain *string
	ringing, ringingAddr          *int
}

func addSIPFlags(fs *flag.FlagSet) sipFlags {
	return sipFlags{
		addr:        fs.String("sip", "", "SIP (TCP) address of the Kerberos SIP registrar, presence and IM service (empty: none)"),
		keytab:      fs.String("keytab", "", "keytab with the key of -sip-service, exported from the Kerberos KDC (kadmin ktadd)"),
		service:     fs.String("sip-service", "", "Kerberos service principal the SIP service challenges for, e.g. sip/lab.example (the WWW-Authenticate targetname)"),
		domain:      fs.String("sip-domain", "", "SIP domain users register in, e.g. lab.example (default: the host of -sip-service)"),
		ringing:     fs.Int("sip-max-ringing", 4, "calls being set up (ringing) the SIP service allows from one user and to one user; more are refused 503/486"),
		ringingAddr: fs.Int("sip-max-ringing-addr", 16, "calls being set up the SIP service allows from one IP address; more are refused 503"),
	}
}

// start opens the SIP listener when -sip is given; the returned address
// goes into the ready line.
func (f sipFlags) start(ctx context.Context, errc chan<- error, log *slog.Logger) (*sip.Server, string, error) {
	if *f.addr == "" {
		if *f.keytab != "" || *f.service != "" {
			return nil, "", usageError{"-keytab and -sip-service need -sip ADDR"}
		}
		return nil, "", nil
	}
	if *f.keytab == "" || *f.service == "" {
		return nil, "", usageError{"-sip needs -keytab FILE and -sip-service sip/HOST"}
	}
	domain := *f.domain
	if domain == "" {
		domain = strings.TrimPrefix(*f.service, "sip/") // sip.New checks the prefix
	}
	if *f.ringing < 1 || *f.ringingAddr < 1 {
		return nil, "", usageError{"-sip-max-ringing and -sip-max-ringing-addr must be at least 1"}
	}
	srv, err := sip.New(sip.Config{Domain: domain, Keytab: *f.keytab, Service: *f.service,
		MaxPendingInvites: *f.ringing, MaxPendingPerAddr: *f.ringingAddr,
		Logf: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }})
	if err != nil {
		return nil, "", err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", *f.addr)
	if err != nil {
		return nil, "", fmt.Errorf("-sip %s: %w", *f.addr, err)
	}
	go func() { errc <- srv.Serve(l) }()
	return srv, l.Addr().String(), nil
}
