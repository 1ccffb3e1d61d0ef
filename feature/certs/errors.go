package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons a certificate is refused; a *VerifyError wraps one of them.
var (
	ErrExpired       = errors.New("certificate expired")
	ErrNotYetValid   = errors.New("certificate not yet valid")
	ErrWrongHost     = errors.New("certificate not valid for host")
	ErrUnknownIssuer = errors.New("certificate issued by an unknown authority")
	ErrNoCertificate = errors.New("server sent no certificate")
	ErrInvalid       = errors.New("certificate invalid")
)

// VerifyError is a refused server certificate.
type VerifyError struct {
	Cert   *x509.Certificate // the certificate at fault (may be nil)
	Host   string            // name the client checked
	Now    time.Time         // the device clock used
	Reason error             // one of the Err* reasons
	Err    error             // the crypto/x509 error, may be nil
}

// Name describes a certificate by subject CN (or full subject) and SANs.
func Name(c *x509.Certificate) string {
	if c == nil {
		return "(none)"
	}
	subj := c.Subject.CommonName
	if subj == "" {
		subj = c.Subject.String()
	}
	if subj == "" {
		subj = "serial " + c.SerialNumber.String()
	}
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	if len(sans) == 0 {
		return fmt.Sprintf("%q", subj)
	}
	return fmt.Sprintf("%q (SAN %s)", subj, strings.Join(sans, ", "))
}

func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}

const dateFmt = "2006-01-02 15:04 MST"

func (e *VerifyError) Error() string {
	c := e.Cert
	switch e.Reason {
	case ErrExpired:
		return fmt.Sprintf("certs: certificate %s expired on %s (device clock %s): the server must renew it, or set the device clock",
			Name(c), c.NotAfter.UTC().Format(dateFmt), e.Now.UTC().Format(dateFmt))
	case ErrNotYetValid:
		return fmt.Sprintf("certs: certificate %s is not valid before %s (device clock %s): check the device clock",
			Name(c), c.NotBefore.UTC().Format(dateFmt), e.Now.UTC().Format(dateFmt))
	case ErrWrongHost:
		if e.Host == "" {
			return fmt.Sprintf("certs: certificate %s: no server name to check it against: connect by name", Name(c))
		}
		return fmt.Sprintf("certs: certificate %s is not valid for host %q: connect with a name the certificate lists, or reissue it with %q",
			Name(c), e.Host, e.Host)
	case ErrUnknownIssuer:
		return fmt.Sprintf("certs: certificate %s was issued by unknown issuer %q: add that CA's PEM file to the OS design's certificates (osdesign.toml) or the lab CA file",
			Name(c), issuerName(c))
	case ErrNoCertificate:
		return fmt.Sprintf("certs: server for %q sent no certificate", e.Host)
	}
	return fmt.Sprintf("certs: certificate %s refused: %v", Name(c), e.Err)
}

// Unwrap returns the reason and the crypto/x509 error.
func (e *VerifyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}
