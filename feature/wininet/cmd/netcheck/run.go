package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
)

// usageError is a command line mistake (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return "netcheck: " + e.msg }

// errFailed means at least one target failed (exit 1); details are printed.
var errFailed = errors.New("netcheck: a target failed")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("netcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	proxyURL := fs.String("proxy", "", "proxy URL: socks5://user:pass@host:port, socks4://, socks4a://, http://")
	certDir := fs.String("certs", certs.DefaultRootDir, "directory of trusted root PEM files")
	caFile := fs.String("ca", "", "extra CA PEM file (labs)")
	resolv := fs.String("resolv", wininet.DefaultResolvConf, "resolv.conf with the DHCP lease's DNS servers")
	dns := fs.String("dns", "", "DNS server host:port, instead of -resolv")
	timeout := fs.Duration("timeout", 15*time.Second, "time limit per target")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() == 0 {
		return usageError{"name at least one target: https://host/path, http://host/path or host:port"}
	}
	store, err := certs.Load(certs.Config{RootDir: *certDir, ExtraCAFile: *caFile})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errFailed
	}
	res := &wininet.Resolver{ConfPath: *resolv}
	if *dns != "" {
		res.Servers = []string{*dns}
	}
	cfg := wininet.Config{Proxy: *proxyURL, Certs: store, Resolver: res, DialTimeout: *timeout, Timeout: *timeout, UserAgent: "MSMSGS"}
	client, err := wininet.NewClient(cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	dialer, err := wininet.NewDialer(cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	via := "direct"
	if p := dialer.Proxy(); p != nil {
		via = "via " + p.String()
	}
	failed := false
	for _, target := range fs.Args() {
		tctx, cancel := context.WithTimeout(ctx, *timeout)
		start := time.Now()
		detail, err := check(tctx, client, dialer, target)
		cancel()
		if err != nil {
			failed = true
			hop := "?"
			var he *wininet.HopError
			if errors.As(err, &he) {
				hop = string(he.Hop)
			}
			fmt.Fprintf(stdout, "FAIL %s (%s) at %s: %v\n", target, via, hop, err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s) %s in %v\n", target, via, detail, time.Since(start).Round(time.Millisecond))
	}
	if failed {
		return errFailed
	}
	return nil
}

func check(ctx context.Context, client *http.Client, dialer *wininet.Dialer, target string) (string, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", wininet.Classify(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		if err := wininet.CheckStatus(resp); err != nil {
			return "", err
		}
		return resp.Status, nil
	}
	c, err := dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return "connected to " + c.RemoteAddr().String(), nil
}
