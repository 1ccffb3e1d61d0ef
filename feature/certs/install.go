package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Warning is a problem with a root that does not stop the build.
type Warning struct {
	File string
	Cert *x509.Certificate
	Text string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: certificate %s: %s", w.File, Name(w.Cert), w.Text)
}

// InstallRoots checks the OEM's root PEM files and writes them into dir
// (the image's DefaultRootDir), one file per source, atomically. It fails
// on unreadable or non-certificate files and on name clashes; it warns
// about roots that are expired at now, not CAs, or expire within a year.
// It returns the written paths.
func InstallRoots(dir string, files []string, now time.Time) ([]string, []Warning, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("certs: install roots: %w", err)
	}
	var out []string
	var warns []Warning
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("certs: install roots: %w (fix the certificate path in osdesign.toml)", err)
		}
		certs, err := ParsePEM(b)
		if err != nil {
			return nil, nil, fmt.Errorf("certs: install roots: %s: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) + ".pem"
		if prev, ok := seen[name]; ok {
			return nil, nil, fmt.Errorf("certs: install roots: %s and %s would both be installed as %s: rename one", prev, f, name)
		}
		seen[name] = f
		var clean []byte
		for _, c := range certs {
			switch {
			case now.After(c.NotAfter):
				warns = append(warns, Warning{f, c, "expired on " + c.NotAfter.UTC().Format(dateFmt) + ": servers it issued will be refused"})
			case now.AddDate(1, 0, 0).After(c.NotAfter):
				warns = append(warns, Warning{f, c, "expires on " + c.NotAfter.UTC().Format(dateFmt) + ", within a year"})
			}
			if !c.IsCA {
				warns = append(warns, Warning{f, c, "is not a CA certificate: it only trusts itself"})
			}
			clean = append(clean, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		dst := filepath.Join(dir, name)
		if err := writeAtomic(dst, clean); err != nil {
			return nil, nil, fmt.Errorf("certs: install roots: %w", err)
		}
		out = append(out, dst)
	}
	return out, warns, nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
