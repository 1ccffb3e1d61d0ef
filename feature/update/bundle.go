// Package update is SYSGEN_UPDATE: signed A/B system updates with a trial
// boot and automatic rollback, for boards that boot a flashed disk
// (image/disk). The OEM signs an update bundle with its ed25519 key
// (sysgen keygen makes one, sysgen update signs and sends); the device's
// update service (cmd/update) verifies the bundle against the public key
// in its settings (update.public_key, set in osdesign.toml) before it writes
// anything, writes the slot it is not running from, gives that slot's
// loader entry one boot try and reboots. The new system marks itself good
// (blesses its entry) only after its health checks pass; otherwise the
// loader's boot counter runs out and the next boot is the old slot again.
// A trial that hangs instead is reset by the hardware watchdog
// (SYSGEN_WATCHDOG), which the device init does not kick until the health
// check passes. A bundle whose signed version (update.version) is older
// than the running system's, or than the other slot's good system, is
// refused (ErrDowngrade, version.go) unless update.allow_downgrade is set.
//
// Bundle format (all integers big-endian):
//
//	magic      "SYSGEN-UPDATE-1\n" (16 bytes)
//	header len uint32 (at most MaxHeader)
//	header     JSON (Header): board, command line, version, files with size
//	           and sha256
//	signature  64 bytes: ed25519 over magic, header length and header
//	payload    the files' bytes, in the header's order
package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Magic starts every bundle.
const Magic = "SYSGEN-UPDATE-1\n"

// Bounds on what a device reads.
const (
	MaxHeader = 64 << 10
	// MaxBundle bounds a bundle's payload (the device holds it in RAM
	// until it is verified).
	MaxBundle = 256 << 20
	maxFiles  = 8
)

// Files of a slot, in bundle order.
const (
	FileKernel   = "vmlinuz"
	FileInitrd   = "initrd"
	FileManifest = "manifest.json"
)

// Errors a caller can branch on.
var (
	ErrSignature = errors.New("update: the bundle's signature does not verify with the device's update.public_key: it was changed after signing, or signed with another key (sign it with the OEM key the design names: sysgen update --key)")
	ErrFormat    = errors.New("update: not an update bundle")
	ErrBoard     = errors.New("update: the bundle is for another board")
)

// Header describes a bundle's contents; it is what the signature covers
// (with the files' hashes).
type Header struct {
	Board   string `json:"board"`
	Cmdline string `json:"cmdline"`
	// Image is the sha256 of the image's manifest.json, naming the build.
	Image string `json:"image"`
	// Version is the image's update.version (see CheckVersion); signed
	// with the rest of the header.
	Version string `json:"version,omitempty"`
	Files   []File `json:"files"`
}

// File is one payload file.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bundle is a verified bundle: its header and files.
type Bundle struct {
	Header Header
	Files  map[string][]byte
}

// PublicKeyPrefix starts the text form of a public key (settings value).
const PublicKeyPrefix = "ed25519:"

// FormatPublicKey is the text form of a public key: "ed25519:" and base64.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads the text form of a public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("update: no public key: set update.public_key in osdesign.toml to the line sysgen keygen printed")
	}
	if !strings.HasPrefix(s, PublicKeyPrefix) {
		return nil, fmt.Errorf("update: public key %.20q does not start with %q: use the line sysgen keygen printed", s, PublicKeyPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(s[len(PublicKeyPrefix):])
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("update: public key %.20q is not %d bytes of base64: use the line sysgen keygen printed", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// Sign writes a bundle of files (name order as given) to w.
func Sign(w io.Writer, key ed25519.PrivateKey, h Header, files map[string][]byte) error {
	h.Files = h.Files[:0:0]
	for _, n := range []string{FileKernel, FileInitrd, FileManifest} {
		b, ok := files[n]
		if !ok {
			continue
		}
		sum := sha256.Sum256(b)
		h.Files = append(h.Files, File{Name: n, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
	}
	if len(h.Files) != len(files) {
		return fmt.Errorf("update: a bundle holds %s, %s and %s only", FileKernel, FileInitrd, FileManifest)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	signed := signedPart(hb)
	if _, err := w.Write(signed); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if _, err := w.Write(ed25519.Sign(key, signed)); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	for _, f := range h.Files {
		if _, err := w.Write(files[f.Name]); err != nil {
			return fmt.Errorf("update: %w", err)
		}
	}
	return nil
}

func signedPart(header []byte) []byte {
	b := make([]byte, 0, len(Magic)+4+len(header))
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(header)))
	return append(b, header...)
}

// Read reads and verifies a bundle: the signature over the header first,
// then every file against its size and hash. Nothing it returns is
// unverified; it reads at most max payload bytes (0: MaxBundle).
func Read(r io.Reader, pub ed25519.PublicKey, board string, max int64) (*Bundle, error) {
	if max <= 0 {
		max = MaxBundle
	}
	var pre [len(Magic) + 4]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: it ends before its header (truncated or empty)", ErrFormat)
	}
	if string(pre[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: it does not start with %q (make one with sysgen update)", ErrFormat, strings.TrimSpace(Magic))
	}
	n := binary.BigEndian.Uint32(pre[len(Magic):])
	if n == 0 || n > MaxHeader {
		return nil, fmt.Errorf("%w: header of %d bytes (1 to %d allowed)", ErrFormat, n, MaxHeader)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%w: truncated in its header", ErrFormat)
	}
	sig := make([]byte, ed25519.SignatureSize)
	if _, err := io.ReadFull(r, sig); err != nil {
		return nil, fmt.Errorf("%w: truncated in its signature", ErrFormat)
	}
	if !ed25519.Verify(pub, signedPart(hb), sig) {
		return nil, ErrSignature
	}
	var h Header
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: signed header: %v", ErrFormat, err)
	}
	if board != "" && h.Board != board {
		return nil, fmt.Errorf("%w: it is for %q and this device is %q; build the image with --bsp %s", ErrBoard, h.Board, board, board)
	}
	if _, err := ParseVersion(h.Version); err != nil {
		return nil, fmt.Errorf("%w: signed header: %v", ErrFormat, err)
	}
	if len(h.Files) == 0 || len(h.Files) > maxFiles {
		return nil, fmt.Errorf("%w: %d files (1 to %d allowed)", ErrFormat, len(h.Files), maxFiles)
	}
	b := &Bundle{Header: h, Files: map[string][]byte{}}
	var total int64
	for _, f := range h.Files {
		switch f.Name {
		case FileKernel, FileInitrd, FileManifest:
		default:
			return nil, fmt.Errorf("%w: unknown file %q", ErrFormat, f.Name)
		}
		if _, dup := b.Files[f.Name]; dup {
			return nil, fmt.Errorf("%w: file %q twice", ErrFormat, f.Name)
		}
		if f.Size < 0 || f.Size > max-total {
			return nil, fmt.Errorf("%w: %s of %d bytes passes the %d byte limit", ErrFormat, f.Name, f.Size, max)
		}
		total += f.Size
		data := make([]byte, f.Size)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("update: the bundle is truncated in %s (%v): send it again", f.Name, err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			return nil, fmt.Errorf("update: %s does not match its signed sha256: the bundle was changed after signing or damaged in transfer; send it again", f.Name)
		}
		b.Files[f.Name] = data
	}
	if _, ok := b.Files[FileKernel]; !ok {
		return nil, fmt.Errorf("%w: no %s", ErrFormat, FileKernel)
	}
	if _, ok := b.Files[FileInitrd]; !ok {
		return nil, fmt.Errorf("%w: no %s", ErrFormat, FileInitrd)
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("%w: bytes after the last file", ErrFormat)
	}
	return b, nil
}
