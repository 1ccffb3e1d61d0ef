package display

import (
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
	mem    []byte
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
	fb.mem, err = unix.Mmap(int(f.Fd()), 0, fb.Stride*fb.Size.Y, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("display: mmap %s: %w", path, err)
	}
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

// Blit copies the rectangle r of img to the screen.
func (fb *FB) Blit(img *image.RGBA, r image.Rectangle) error {
	return Convert(fb.mem, fb.Stride, fb.Format, fb.Size, img, r)
}

// Close unmaps the framebuffer and gives the console back.
func (fb *FB) Close() error {
	if fb.tty != nil {
		ioctlInt(fb.tty, kdSetMode, kdText)
		fb.tty.Close()
	}
	err := unix.Munmap(fb.mem)
	if cerr := fb.f.Close(); err == nil {
		err = cerr
	}
	return err
}
