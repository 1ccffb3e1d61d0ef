// Package certs is the device certificate store, the CryptoAPI 2.0
// Certificates catalog item: the root certificates the OEM put in the OS
// design (PEM files, installed by sysgen under DefaultRootDir), an optional
// extra CA file for labs, and an optional device certificate and key. Every
// TLS client on the device builds its *tls.Config from a Store.
//
// Verification failures are *VerifyError values that name the certificate
// (subject and SANs) and the reason, and wrap ErrExpired, ErrNotYetValid,
// ErrWrongHost or ErrUnknownIssuer.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultRootDir is where the image carries the OS design's root certificates.
const DefaultRootDir = "/etc/ssl/certs/device"

// Config names the files a Store is loaded from.
type Config struct {
	// RootDir holds *.pem (and *.crt) root certificates. A missing
	// directory is not an error: the store is then empty.
	RootDir string
	// RootFiles are more PEM files of roots; each must exist.
	RootFiles []string
	// ExtraCAFile is an optional lab CA bundle; it must exist when set.
	ExtraCAFile string
	// DeviceCertFile and DeviceKeyFile are the optional device
	// certificate (PEM, may include intermediates) and its private key.
	DeviceCertFile, DeviceKeyFile string
	// Now is the clock for verification; time.Now when nil.
	Now func() time.Time
}

// Store is a loaded certificate store.
type Store struct {
	pool   *x509.CertPool
	roots  []*x509.Certificate
	device *tls.Certificate
	now    func() time.Time
	// Sources lists the files the roots came from, in load order.
	Sources []string
}

// Load reads the store described by cfg.
func Load(cfg Config) (*Store, error) {
	s := &Store{pool: x509.NewCertPool(), now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var files []string
	if cfg.RootDir != "" {
		ents, err := os.ReadDir(cfg.RootDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("certs: read root directory: %w", err)
		}
		for _, e := range ents {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".pem" || ext == ".crt") {
				files = append(files, filepath.Join(cfg.RootDir, e.Name()))
			}
		}
		slices.Sort(files)
	}
	files = append(files, cfg.RootFiles...)
	if cfg.ExtraCAFile != "" {
		files = append(files, cfg.ExtraCAFile)
	}
	for _, f := range files {
		if err := s.AddPEMFile(f); err != nil {
			return nil, err
		}
	}
	if cfg.DeviceCertFile != "" || cfg.DeviceKeyFile != "" {
		if cfg.DeviceCertFile == "" || cfg.DeviceKeyFile == "" {
			return nil, fmt.Errorf("certs: device certificate needs both a certificate file and a key file (got cert %q, key %q)", cfg.DeviceCertFile, cfg.DeviceKeyFile)
		}
		c, err := tls.LoadX509KeyPair(cfg.DeviceCertFile, cfg.DeviceKeyFile)
		if err != nil {
			return nil, fmt.Errorf("certs: load device certificate %s: %w (check that the key matches the certificate and both are PEM)", cfg.DeviceCertFile, err)
		}
		s.device = &c
	}
	return s, nil
}

// AddPEMFile adds every certificate in a PEM file as a root.
func (s *Store) AddPEMFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("certs: read %w (list only existing PEM files in osdesign.toml)", err)
	}
	certs, err := ParsePEM(b)
	if err != nil {
		return fmt.Errorf("certs: %s: %w", path, err)
	}
	for _, c := range certs {
		s.pool.AddCert(c)
		s.roots = append(s.roots, c)
	}
	s.Sources = append(s.Sources, path)
	return nil
}

// ParsePEM returns the certificates in PEM data. Blocks other than
// CERTIFICATE are an error, as is data without any certificate.
func ParsePEM(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE (keys do not belong in the root store)", n, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return out, nil
}

// Pool returns the root pool.
func (s *Store) Pool() *x509.CertPool { return s.pool }

// Roots returns the root certificates in load order.
func (s *Store) Roots() []*x509.Certificate { return slices.Clone(s.roots) }

// DeviceCertificate returns the device certificate, or nil.
func (s *Store) DeviceCertificate() *tls.Certificate { return s.device }

// TLSConfig returns a client config that trusts only the store's roots,
// presents the device certificate when the server asks for one, and fails
// verification with a *VerifyError. Pass the server name (or IP address)
// being dialled: crypto/tls reports no server name for IP addresses, so an
// empty serverName only works for names filled in by crypto/tls or net/http.
func (s *Store) TLSConfig(serverName string) *tls.Config {
	cfg := &tls.Config{
		ServerName: serverName,
		MinVersion: tls.VersionTLS12,
		// Verification is done, fully, in VerifyConnection so the error
		// names the certificate and the reason.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			name := serverName
			if name == "" {
				name = cs.ServerName
			}
			return s.Verify(cs.PeerCertificates, name)
		},
	}
	if s.device != nil {
		cfg.Certificates = []tls.Certificate{*s.device}
	}
	return cfg
}

// Verify checks a peer chain (leaf first) against the store for host.
func (s *Store) Verify(chain []*x509.Certificate, host string) error {
	if len(chain) == 0 {
		return &VerifyError{Reason: ErrNoCertificate, Host: host}
	}
	if host == "" {
		return &VerifyError{Cert: chain[0], Reason: ErrWrongHost, Host: host, Err: errors.New("no server name to check the certificate against")}
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	now := s.now()
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         s.pool,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return explain(err, chain[0], host, now)
	}
	return nil
}

func explain(err error, leaf *x509.Certificate, host string, now time.Time) error {
	ve := &VerifyError{Cert: leaf, Host: host, Now: now, Err: err}
	var inv x509.CertificateInvalidError
	var hn x509.HostnameError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv):
		if inv.Cert != nil {
			ve.Cert = inv.Cert
		}
		switch {
		case inv.Reason == x509.Expired && now.Before(ve.Cert.NotBefore):
			ve.Reason = ErrNotYetValid
		case inv.Reason == x509.Expired:
			ve.Reason = ErrExpired
		default:
			ve.Reason = ErrInvalid
		}
	case errors.As(err, &hn):
		ve.Reason = ErrWrongHost
	case errors.As(err, &ua):
		ve.Reason = ErrUnknownIssuer
		if ua.Cert != nil {
			ve.Cert = ua.Cert
		}
	default:
		ve.Reason = ErrInvalid
	}
	return ve
}
