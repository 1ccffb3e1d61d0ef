package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/settings"
	upd "github.com/oemkit/messenger/feature/update"
	"github.com/oemkit/messenger/image"
)

func init() {
	extraCommands = append(extraCommands,
		command{"update", "send a signed update of the built image to a running device (update DEVICE-URL IMAGE-DIR --key FILE)", runUpdate})
}

// runUpdate signs the image folder's kernel, initramfs and manifest into an
// update bundle and posts it to the device's update service, printing the
// device's answer line by line.
func runUpdate(ctx context.Context, c *Context, args []string) error {
	fs, _ := c.flags("update", "update DEVICE-URL IMAGE-DIR --key FILE [-o BUNDLE]", nil)
	keyFile := fs.String("key", "", "the OEM's private update key (sysgen keygen -o FILE made it)")
	out := fs.String("o", "", "also write the signed bundle to this file")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up when the device has not answered in this time")
	wait := fs.Duration("wait", 20*time.Second, "keep trying this long to reach the device (it may be booting)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("sysgen update: want DEVICE-URL and IMAGE-DIR (e.g. sysgen update http://10.0.0.7:8470 out/ --key oem.key)")
	}
	if *keyFile == "" {
		return usageErr("sysgen update: --key FILE is required: the device only takes bundles signed with the key its design names (update.public_key)")
	}
	dev, dir := pos[0], pos[1]
	if c.Dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(c.Dir, dir)
	}
	kf := *keyFile
	if c.Dir != "" && !filepath.IsAbs(kf) {
		kf = filepath.Join(c.Dir, kf)
	}
	key, err := readSigningKey(kf)
	if err != nil {
		return fmt.Errorf("sysgen update: %w", err)
	}
	u, err := url.Parse(dev)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("sysgen update: device URL %q: want http://HOST:PORT (the update service listens on update.listen, port 8470 by default)", dev)
	}
	bundle, m, version, err := makeBundle(dir, key)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := writeFileAtomic(*out, bundle); err != nil {
			return fmt.Errorf("sysgen update: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	base := strings.TrimSuffix(u.Path, "/")
	u.Path = base + "/status"
	st, err := deviceStatus(ctx, u.String(), *wait)
	if err != nil {
		return fmt.Errorf("sysgen update: cannot reach the device at %s: %v (is it running, with SYSGEN_UPDATE in its design, and is the port right?)", u.Host, err)
	}
	if st.Board != m.BSP {
		return fmt.Errorf("sysgen update: the device at %s is a %s and the image is for %s: build the image with --bsp %s", u.Host, st.Board, m.BSP, st.Board)
	}
	fmt.Fprintf(c.Stdout, "device %s (%s) runs slot %s, version %s\n", u.Host, st.Board, st.Running, upd.VersionText(st.Version))
	u.Path = base + "/update"
	fmt.Fprintf(c.Stdout, "sending the %s image, version %s (%s signed bundle) to %s\n", m.BSP, upd.VersionText(version), humanBytes(int64(len(bundle))), u.Host)
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(bundle))
	if err != nil {
		return fmt.Errorf("sysgen update: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sysgen update: cannot reach the device at %s: %v (is it running, with SYSGEN_UPDATE in its design, and is the port right?)", u.Host, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	sent := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("sysgen update: the device refused the update (%s): %s", resp.Status, strings.TrimSpace(string(b)))
	}
	ok := false
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(c.Stdout, "device: %s\n", line)
		if strings.HasPrefix(line, "FAILED: ") {
			return fmt.Errorf("sysgen update: the device could not write the update: %s", strings.TrimPrefix(line, "FAILED: "))
		}
		ok = ok || strings.HasPrefix(line, "OK: ")
	}
	if !ok {
		return fmt.Errorf("sysgen update: the device's answer ended before it confirmed the update (%v); its running slot still boots: try again", sc.Err())
	}
	fmt.Fprintf(c.Stdout, "update sent and written in %.1fs; the device reboots into its trial boot\n", sent.Seconds())
	return nil
}

// deviceStatus asks the device's update service for its status, trying
// again for up to wait while the connection fails (a device that has just
// booted may not have its network up yet).
func deviceStatus(ctx context.Context, url string, wait time.Duration) (*upd.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := getStatus(ctx, url)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func getStatus(ctx context.Context, url string) (*upd.Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s (is this the update service?)", url, resp.Status)
	}
	var st upd.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil || st.Board == "" {
		return nil, fmt.Errorf("GET %s: not an update service status (%v)", url, err)
	}
	return &st, nil
}

// imageVersion reads update.version from the settings file inside the
// image folder's initramfs: the version the device checks downgrades by.
func imageVersion(dir string) (string, error) {
	files, err := image.ReadInitramfs(dir)
	if err != nil {
		return "", fmt.Errorf("sysgen update: %w", err)
	}
	b, ok := files[settings.Path]
	if !ok {
		return "", fmt.Errorf("sysgen update: the image in %s has no %s: it was not built with SYSGEN_UPDATE", dir, settings.Path)
	}
	f, err := settings.Parse(settings.Path, b)
	if err != nil {
		return "", fmt.Errorf("sysgen update: %w", err)
	}
	v, err := f.Text("update.version")
	if err != nil && !settings.IsUnset(err) {
		return "", fmt.Errorf("sysgen update: %w", err)
	}
	if _, err := upd.ParseVersion(v); err != nil {
		return "", fmt.Errorf("sysgen update: %w (update.version in the design)", err)
	}
	return v, nil
}

// makeBundle signs the image folder's files into a bundle.
func makeBundle(dir string, key []byte) ([]byte, *image.Manifest, string, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, nil, "", fmt.Errorf("sysgen update: %w", err)
	}
	files := map[string][]byte{}
	for name, f := range map[string]string{upd.FileKernel: m.Kernel.File, upd.FileInitrd: m.Initramfs, upd.FileManifest: image.ManifestFile} {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, f)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, "", fmt.Errorf("sysgen update: image folder %s: %w (rebuild it with sysgen build -o %s)", dir, err, dir)
		}
		files[name] = b
	}
	if want := m.Kernel.SHA256; want != "" {
		sum := sha256.Sum256(files[upd.FileKernel])
		if hex.EncodeToString(sum[:]) != want {
			return nil, nil, "", fmt.Errorf("sysgen update: %s does not match the sha256 in its manifest: the image folder is damaged; rebuild it with sysgen build -o %s", m.Kernel.File, dir)
		}
	}
	version, err := imageVersion(dir)
	if err != nil {
		return nil, nil, "", err
	}
	msum := sha256.Sum256(files[upd.FileManifest])
	var buf bytes.Buffer
	h := upd.Header{Board: m.BSP, Cmdline: m.Cmdline, Image: hex.EncodeToString(msum[:]), Version: version}
	if err := upd.Sign(&buf, key, h, files); err != nil {
		return nil, nil, "", fmt.Errorf("sysgen update: %w", err)
	}
	return buf.Bytes(), m, version, nil
}
