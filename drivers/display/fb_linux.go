package display

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Framebuffer ioctls and the tty mode that stops the console drawing.
const (
	fbioGetVScreenInfo = 0x4600
	fbioGetFScreenInfo = 0x4602
	kdSetMode          = 0x4B3A
	kdGraphics         = 1
	kdText             = 0
)

// FB is an open, memory-mapped framebuffer.
type FB struct {
	f      *os.File
	tty    *os.File
	dirty  bool   // mem not yet written (the first frame)
	mem    []byte // the frame as last written
	line   []byte // one converted line
	Size   image.Point
	Stride int
	Format Format
}

// Open maps the framebuffer at path (/dev/fb0) and switches the console
// (/dev/tty0) to graphics mode so the kernel's text console stops drawing
// on it; Close switches it back.
func Open(path string) (*FB, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("display: %w", err)
	}
	var vinfo [160]byte
	var finfo [80]byte
	if err := ioctl(f, fbioGetVScreenInfo, unsafe.Pointer(&vinfo[0])); err != nil {
		f.Close()
		return nil, fmt.Errorf("display: %s: FBIOGET_VSCREENINFO: %w", path, err)
	}
	if err := ioctl(f, fbioGetFScreenInfo, unsafe.Pointer(&finfo[0])); err != nil {
		f.Close()
		return nil, fmt.Errorf("display: %s: FBIOGET_FSCREENINFO: %w", path, err)
	}
	le := binary.LittleEndian
	fb := &FB{f: f,
		Size:   image.Pt(int(le.Uint32(vinfo[0:])), int(le.Uint32(vinfo[4:]))),
		Stride: int(le.Uint32(finfo[48:])),
		Format: Format{BPP: int(le.Uint32(vinfo[24:])),
			Red: int(le.Uint32(vinfo[32:])), RedLen: int(le.Uint32(vinfo[36:])),
			Green: int(le.Uint32(vinfo[44:])), GreenLen: int(le.Uint32(vinfo[48:])),
			Blue: int(le.Uint32(vinfo[56:])), BlueLen: int(le.Uint32(vinfo[60:]))},
	}
	memLen := int(le.Uint32(finfo[24:]))
	if fb.Size.X <= 0 || fb.Size.Y <= 0 || fb.Stride <= 0 || memLen < fb.Stride*fb.Size.Y {
		f.Close()
		return nil, fmt.Errorf("display: %s: unusable mode %v, stride %d, %d bytes", path, fb.Size, fb.Stride, memLen)
	}
	if err := fb.Format.Supported(); err != nil {
		f.Close()
		return nil, err
	}
	// The frame is written with pwrite rather than through a shared
	// mapping: DRM's fbdev emulation tracks a mapping page by page with
	// write faults, which cost more than the copy under emulation.
	fb.mem = make([]byte, fb.Stride*fb.Size.Y)
	fb.line = make([]byte, fb.Stride)
	fb.dirty = true
	if tty, err := os.OpenFile("/dev/tty0", os.O_RDWR, 0); err == nil {
		if ioctlInt(tty, kdSetMode, kdGraphics) == nil {
			fb.tty = tty
		} else {
			tty.Close()
		}
	}
	return fb, nil
}

func ioctlInt(f *os.File, req, v uintptr) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, v)
	if e != 0 {
		return e
	}
	return nil
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// Blit copies the rectangle r of img to the screen, writing only the
// lines that changed since the last Blit.
func (fb *FB) Blit(img *image.RGBA, r image.Rectangle) error {
	r = r.Intersect(img.Bounds()).Intersect(image.Rectangle{Max: fb.Size})
	lo, hi := -1, -1
	if fb.dirty {
		// The first frame: every line is written, so convert straight
		// into the copy of the screen without comparing.
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if err := ConvertLine(fb.mem[y*fb.Stride:(y+1)*fb.Stride], fb.Format, img, y, r.Min.X, r.Max.X); err != nil {
				return err
			}
		}
		lo, hi = r.Min.Y, r.Max.Y
		r = image.Rectangle{} // skip the comparing loop
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(fb.line, fb.mem[y*fb.Stride:(y+1)*fb.Stride])
		if err := ConvertLine(fb.line, fb.Format, img, y, r.Min.X, r.Max.X); err != nil {
			return err
		}
		old := fb.mem[y*fb.Stride : (y+1)*fb.Stride]
		if fb.dirty || !bytes.Equal(old, fb.line) {
			copy(old, fb.line)
			if lo < 0 {
				lo = y
			}
			hi = y + 1
		}
	}
	fb.dirty = false
	if lo < 0 {
		return nil
	}
	if _, err := fb.f.WriteAt(fb.mem[lo*fb.Stride:hi*fb.Stride], int64(lo*fb.Stride)); err != nil {
		return fmt.Errorf("display: write the frame: %w", err)
	}
	return nil
}

// Close unmaps the framebuffer and gives the console back.
func (fb *FB) Close() error {
	if fb.tty != nil {
		ioctlInt(fb.tty, kdSetMode, kdText)
		fb.tty.Close()
	}
	return fb.f.Close()
}
