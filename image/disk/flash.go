package disk

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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Errors Flash refuses with; each message says what to do instead.
var (
	ErrMounted   = errors.New("flash: the target is mounted")
	ErrHostDisk  = errors.New("flash: the target is the disk this computer runs from")
	ErrTooSmall  = errors.New("flash: the target is smaller than the image")
	ErrBadImage  = errors.New("flash: the image is damaged")
	ErrBoard     = errors.New("flash: the image is for another board")
	ErrVerify    = errors.New("flash: the target reads back different bytes")
	ErrNotTarget = errors.New("flash: the target is not a block device or a file")
)

// Image is a disk image to flash: the file and what its image folder's
// manifest.json says about it.
type Image struct {
	Path   string
	Board  string
	Size   int64
	SHA256 string
}

// maxManifest bounds the manifest read.
const maxManifest = 4 << 20

// OpenImage finds the disk image in an image folder (or takes the disk
// image file itself, its manifest.json beside it) and checks it against the
// manifest: size, sha256 and the GPT header.
func OpenImage(p string) (*Image, error) {
	dir, file := p, ""
	if st, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("flash: image: %w", err)
	} else if !st.IsDir() {
		dir, file = filepath.Dir(p), p
	}
	b, err := readBounded(filepath.Join(dir, "manifest.json"), maxManifest)
	if err != nil {
		return nil, fmt.Errorf("flash: %s has no manifest.json beside the disk image (flash the folder sysgen build wrote): %w", dir, err)
	}
	var m struct {
		BSP  string `json:"bsp"`
		Disk *struct {
			File   string `json:"file"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"disk"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("flash: %s/manifest.json: %w", dir, err)
	}
	if m.Disk == nil || m.Disk.File == "" || filepath.Base(m.Disk.File) != m.Disk.File {
		return nil, fmt.Errorf("flash: the image in %s has no disk image (its BSP %q gets none, or systemd-boot was missing at build time: apt-get install systemd-boot-efi and rebuild)", dir, m.BSP)
	}
	if file == "" {
		file = filepath.Join(dir, m.Disk.File)
	}
	img := &Image{Path: file, Board: m.BSP, Size: m.Disk.Size, SHA256: m.Disk.SHA256}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	if st.Size() != img.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, its manifest says %d (truncated or from another build): rebuild it with sysgen build", ErrBadImage, file, st.Size(), img.Size)
	}
	var hdr [1024]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[512:520]) != "EFI PART" || hdr[510] != 0x55 || hdr[511] != 0xaa {
		return nil, fmt.Errorf("%w: %s has no GPT partition table: rebuild it with sysgen build", ErrBadImage, file)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("flash: read %s: %w", file, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != img.SHA256 {
		return nil, fmt.Errorf("%w: %s does not match the sha256 in its manifest (corrupt or changed): rebuild it with sysgen build", ErrBadImage, file)
	}
	return img, nil
}

func readBounded(p string, n int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n+1))
	if err == nil && int64(len(b)) > n {
		err = fmt.Errorf("%s is over %d bytes", p, n)
	}
	return b, err
}

// FlashOptions change Flash.
type FlashOptions struct {
	// Board, when set, is the board the user means to flash; an image for
	// another one is refused.
	Board string
	// Progress receives the progress bar ("\r"-updated); nil for none.
	Progress io.Writer
	// MountInfo is the mount table to check the target against
	// ("" means /proc/self/mountinfo).
	MountInfo string
}

// Flash writes the image to target (a block device, or a file that is
// created or replaced), then reads it back and compares the hash. It
// refuses, before writing anything, a wrong-board image, a target that is
// mounted, the disk the host runs from, and a target smaller than the
// image.
func Flash(ctx context.Context, img *Image, target string, o FlashOptions) error {
	if o.Board != "" && img.Board != o.Board {
		return fmt.Errorf("%w: %s is built for %s, not %s: build it for this board (sysgen build --bsp %s) or pass --bsp %s if %s is right", ErrBoard, img.Path, img.Board, o.Board, o.Board, img.Board, img.Board)
	}
	if o.MountInfo == "" {
		o.MountInfo = "/proc/self/mountinfo"
	}
	t, err := inspectTarget(target, o.MountInfo)
	if err != nil {
		return err
	}
	if t.capacity < img.Size {
		return fmt.Errorf("%w: %s holds %s, the image needs %s: use a larger card or disk (or free space on the file's file system)", ErrTooSmall, target, mib(t.capacity), mib(img.Size))
	}
	src, err := os.Open(img.Path)
	if err != nil {
		return fmt.Errorf("flash: %w", err)
	}
	defer src.Close()
	flags := os.O_WRONLY
	if !t.block {
		flags |= os.O_CREATE | os.O_TRUNC
	}
	dst, err := os.OpenFile(target, flags, 0o644)
	if err != nil {
		return fmt.Errorf("flash: open %s for writing: %w (block devices need root)", target, err)
	}
	bar := newBar(o.Progress, "writing", img.Size)
	written, err := copyCtx(ctx, dst, src, bar)
	if err == nil {
		bar.phase("syncing")
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if isNoSpace(err) {
			return fmt.Errorf("%w: %s is full after %s of %s: use a larger card or disk, or free space", ErrTooSmall, target, mib(written), mib(img.Size))
		}
		return fmt.Errorf("flash: write %s after %s: %w", target, mib(written), err)
	}
	bar.done()
	// Read back what the target holds, not what the page cache kept.
	rd, err := os.Open(target)
	if err != nil {
		return fmt.Errorf("flash: read back %s: %w", target, err)
	}
	defer rd.Close()
	dropCache(rd)
	h := sha256.New()
	vbar := newBar(o.Progress, "verifying", img.Size)
	if _, err := copyCtx(ctx, h, io.LimitReader(rd, img.Size), vbar); err != nil {
		return fmt.Errorf("flash: read back %s: %w", target, err)
	}
	vbar.done()
	if hex.EncodeToString(h.Sum(nil)) != img.SHA256 {
		return fmt.Errorf("%w than were written (sha256 differs): the card or disk may be faulty or fake; flash again or use another", ErrVerify)
	}
	return nil
}

// target is what inspectTarget found.
type target struct {
	block    bool
	capacity int64
}

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	Major, Minor int
	Point        string
	Source       string
}

// maxMountInfo bounds the mount table read.
const maxMountInfo = 8 << 20

// ParseMountInfo reads /proc/self/mountinfo text (proc(5)): major:minor is
// field 3, the mount point field 5, the source after the " - " separator.
func ParseMountInfo(b []byte) ([]Mount, error) {
	if len(b) > maxMountInfo {
		return nil, fmt.Errorf("flash: mount table over %d bytes", maxMountInfo)
	}
	var out []Mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("flash: mount table line %d: %q is not a mountinfo line", n, line)
		}
		mj, mn, ok := strings.Cut(f[2], ":")
		maj, err1 := strconv.Atoi(mj)
		min, err2 := strconv.Atoi(mn)
		if !ok || err1 != nil || err2 != nil || maj < 0 || min < 0 {
			return nil, fmt.Errorf("flash: mount table line %d: device %q is not MAJOR:MINOR", n, f[2])
		}
		out = append(out, Mount{Major: maj, Minor: min, Point: unescape(f[4]), Source: unescape(f[sep+2])})
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CheckBlock refuses a block device (whole disk `disk`, as "MAJOR:MINOR")
// when the host runs from it or any of its partitions is mounted. diskOf
// maps a mount's MAJOR:MINOR to its whole disk.
func CheckBlock(name, disk string, mounts []Mount, diskOf func(maj, min int) string) error {
	for _, m := range mounts {
		if m.Point == "/" && diskOf(m.Major, m.Minor) == disk {
			return fmt.Errorf("%w: %s holds / (%s): flashing it would destroy the running system; pick the card or disk you plugged in (lsblk lists them)", ErrHostDisk, name, m.Source)
		}
	}
	for _, m := range mounts {
		if diskOf(m.Major, m.Minor) == disk {
			return fmt.Errorf("%w: %s (%s) is mounted on %s: unmount it first (umount %s), or pick another target", ErrMounted, name, m.Source, m.Point, m.Point)
		}
	}
	return nil
}

// bar is a text progress bar.
type bar struct {
	w          io.Writer
	what       string
	total, n   int64
	start      time.Time
	lastUpdate time.Time
}

func newBar(w io.Writer, what string, total int64) *bar {
	return &bar{w: w, what: what, total: total, start: time.Now()}
}

func (b *bar) add(n int) {
	b.n += int64(n)
	if b.w == nil || time.Since(b.lastUpdate) < 200*time.Millisecond {
		return
	}
	b.lastUpdate = time.Now()
	b.draw()
}

func (b *bar) draw() {
	const width = 30
	frac := 1.0
	if b.total > 0 {
		frac = float64(b.n) / float64(b.total)
	}
	fill := int(frac * width)
	rate := float64(b.n) / max(time.Since(b.start).Seconds(), 1e-3) / (1 << 20)
	fmt.Fprintf(b.w, "\r%-9s [%s%s] %3.0f%% %s of %s, %.0f MiB/s ", b.what, strings.Repeat("#", fill), strings.Repeat(".", width-fill), frac*100, mib(b.n), mib(b.total), rate)
}

func (b *bar) phase(what string) {
	if b.w != nil {
		fmt.Fprintf(b.w, "\r%-9s %s", what, strings.Repeat(" ", 60))
	}
}

func (b *bar) done() {
	if b.w == nil {
		return
	}
	b.n = b.total
	b.draw()
	fmt.Fprintf(b.w, "in %.1fs\n", time.Since(b.start).Seconds())
}

func copyCtx(ctx context.Context, dst io.Writer, src io.Reader, b *bar) (int64, error) {
	buf := make([]byte, 4<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := io.ReadFull(src, buf)
		if k > 0 {
			w, err := dst.Write(buf[:k])
			n += int64(w)
			b.add(w)
			if err != nil {
				return n, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
