package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	upd "github.com/oemkit/messenger/feature/update"
)

func init() {
	extraCommands = append(extraCommands,
		command{"keygen", "make the OEM's ed25519 update signing key (-o FILE) and print the line for osdesign.toml", runKeygen})
}

// runKeygen writes a new ed25519 private key (PKCS #8 PEM, mode 0600) and
// prints the public key as the update.public_key setting for the design.
func runKeygen(ctx context.Context, c *Context, args []string) error {
	fs, _ := c.flags("keygen", "keygen -o FILE", nil)
	out := fs.String("o", "", "private key file to write (kept by the OEM, never put in an image)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("sysgen keygen: -o FILE is required")
	}
	p := *out
	if !filepath.IsAbs(p) && c.Dir != "" {
		p = filepath.Join(c.Dir, p)
	}
	if _, err := os.Stat(p); err == nil {
		return fmt.Errorf("sysgen keygen: %s exists; a new key would lock out devices that trust the old one: pick another -o or remove it first", *out)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("sysgen keygen: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("sysgen keygen: %w", err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("sysgen keygen: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sysgen keygen: %w", err)
	}
	fmt.Fprintf(c.Stdout, "wrote the private update key %s (keep it secret; sysgen update --key %s signs with it)\nput this line under [settings] in osdesign.toml:\n\"update.public_key\" = %q\n", *out, *out, upd.FormatPublicKey(pub))
	return nil
}

// readSigningKey reads a key written by sysgen keygen.
func readSigningKey(p string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("update key: %w (make one with sysgen keygen -o %s)", err, p)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("update key %s: not a PEM private key (make one with sysgen keygen)", p)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("update key %s: %w", p, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("update key " + p + ": not an ed25519 key (make one with sysgen keygen)")
	}
	return ek, nil
}
