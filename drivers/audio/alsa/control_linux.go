package alsa

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Control is an open /dev/snd/controlC<card>.
type Control struct {
	fd   int
	path string
	pin  []ElemID
}

// OpenControl opens the control device of card under devRoot ("/dev").
func OpenControl(devRoot string, card int) (*Control, error) {
	p := fmt.Sprintf("%s/snd/controlC%d", devRoot, card)
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("alsa: open %s: %w", p, err)
	}
	return &Control{fd: fd, path: p}, nil
}

func (c *Control) ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(c.fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}

// Elems lists the card's control elements.
func (c *Control) Elems() ([]ElemID, error) {
	var l elemList
	if err := c.ioctl(ioctlElemList, unsafe.Pointer(&l)); err != nil {
		return nil, fmt.Errorf("alsa: %s: list elements: %w", c.path, err)
	}
	if l.Count == 0 {
		return nil, nil
	}
	c.pin = make([]ElemID, l.Count) // heap: the kernel gets its address as a uintptr
	l = elemList{Space: uint32(len(c.pin)), Pids: uintptr(unsafe.Pointer(&c.pin[0]))}
	err := c.ioctl(ioctlElemList, unsafe.Pointer(&l))
	runtime.KeepAlive(c.pin)
	if err != nil {
		return nil, fmt.Errorf("alsa: %s: list elements: %w", c.path, err)
	}
	out := append([]ElemID(nil), c.pin[:l.Used]...)
	c.pin = nil
	return out, nil
}

// Info returns an element's type, count and range.
func (c *Control) Info(id ElemID) (ElemInfo, error) {
	info := ElemInfo{ID: id}
	if err := c.ioctl(ioctlElemInfo, unsafe.Pointer(&info)); err != nil {
		return info, fmt.Errorf("alsa: %s: info %q: %w", c.path, id.NameString(), err)
	}
	return info, nil
}

// Write sets an integer or boolean element's values (one per channel).
func (c *Control) Write(id ElemID, values []int64) error {
	v := elemValue{ID: id}
	copy(v.Values[:], values)
	if err := c.ioctl(ioctlElemWrite, unsafe.Pointer(&v)); err != nil {
		return fmt.Errorf("alsa: %s: write %q: %w", c.path, id.NameString(), err)
	}
	return nil
}

// Read returns an integer or boolean element's first count values.
func (c *Control) Read(id ElemID, count int) ([]int64, error) {
	v := elemValue{ID: id}
	if err := c.ioctl(ioctlElemRead, unsafe.Pointer(&v)); err != nil {
		return nil, fmt.Errorf("alsa: %s: read %q: %w", c.path, id.NameString(), err)
	}
	return append([]int64(nil), v.Values[:min(count, len(v.Values))]...), nil
}

// Close closes the control device.
func (c *Control) Close() error { return unix.Close(c.fd) }

// UnmutePlayback switches on every mixer "... Playback Switch" and sets
// every "... Playback Volume" to its maximum (0 dB on HDA codecs): codecs
// come up muted, and a device has no alsactl to restore levels. It returns
// the names of the elements it changed.
func UnmutePlayback(devRoot string, card int) ([]string, error) {
	return unmute(devRoot, card, "Playback")
}

// UnmuteCapture does for the capture side what UnmutePlayback does for
// playback: every "... Capture Switch" on, every "... Capture Volume" at
// its maximum (0 dB on QEMU's HDA codec). Without it a microphone records
// silence.
func UnmuteCapture(devRoot string, card int) ([]string, error) {
	return unmute(devRoot, card, "Capture")
}

func unmute(devRoot string, card int, side string) ([]string, error) {
	c, err := OpenControl(devRoot, card)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ids, err := c.Elems()
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, id := range ids {
		name := id.NameString()
		if id.Iface != IfaceMixer || !strings.Contains(name, side) {
			continue
		}
		info, err := c.Info(id)
		if err != nil {
			return changed, err
		}
		if info.Access&AccessWrite == 0 || info.Count == 0 || info.Count > 128 {
			continue
		}
		var v int64
		switch {
		case info.Type == TypeBoolean && strings.HasSuffix(name, "Switch"):
			v = 1
		case info.Type == TypeInteger && strings.HasSuffix(name, "Volume"):
			_, v, _ = info.Range()
		default:
			continue
		}
		vals := make([]int64, info.Count)
		for i := range vals {
			vals[i] = v
		}
		if err := c.Write(id, vals); err != nil {
			return changed, err
		}
		changed = append(changed, name)
	}
	return changed, nil
}
