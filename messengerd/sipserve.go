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
type sipFlags struct{ addr, keytab, service, domain *string }

func addSIPFlags(fs *flag.FlagSet) sipFlags {
	return sipFlags{
		addr:    fs.String("sip", "", "SIP (TCP) address of the Kerberos SIP registrar, presence and IM service (empty: none)"),
		keytab:  fs.String("keytab", "", "keytab with the key of -sip-service, exported from the Kerberos KDC (kadmin ktadd)"),
		service: fs.String("sip-service", "", "Kerberos service principal the SIP service challenges for, e.g. sip/lab.example (the WWW-Authenticate targetname)"),
		domain:  fs.String("sip-domain", "", "SIP domain users register in, e.g. lab.example (default: the host of -sip-service)"),
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
	srv, err := sip.New(sip.Config{Domain: domain, Keytab: *f.keytab, Service: *f.service,
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
