package i2cdev

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

const (
	ioctlRDWR = 0x0707 // I2C_RDWR
	flagRead  = 0x0001 // I2C_M_RD
)

// msg is struct i2c_msg.
type msg struct {
	Addr  uint16
	Flags uint16
	Len   uint16
	_     uint16
	Buf   uintptr
}

// rdwr is struct i2c_rdwr_ioctl_data.
type rdwr struct {
	Msgs  uintptr
	Nmsgs uint32
	_     uint32
}

// Bus is an open /dev/i2c-N.
type Bus struct {
	mu   sync.Mutex
	fd   int
	name string
	// msgs and pin keep the buffers handed to the kernel as uintptrs on
	// the heap, where the runtime does not move them.
	msgs [2]msg
	pin  [2][]byte
}

var _ i2c.BusCloser = (*Bus)(nil)

// Open opens /dev/i2c-<n> under devRoot.
func Open(devRoot string, n int) (*Bus, error) {
	p := fmt.Sprintf("%s/i2c-%d", devRoot, n)
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("i2cdev: open %s: %w (is the i2c-dev module loaded?)", p, err)
	}
	return &Bus{fd: fd, name: fmt.Sprintf("I2C%d", n)}, nil
}

// String returns "I2C<n>".
func (b *Bus) String() string { return b.name }

// Tx writes w then reads len(r) bytes from the device at addr, with a
// repeated start between them.
func (b *Bus) Tx(addr uint16, w, r []byte) error {
	if len(w) == 0 && len(r) == 0 {
		return nil
	}
	if len(w) > 0xffff || len(r) > 0xffff {
		return errors.New("i2cdev: transfer longer than 65535 bytes")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pin = [2][]byte{w, r}
	defer func() { b.pin = [2][]byte{} }()
	n := 0
	if len(w) > 0 {
		b.msgs[n] = msg{Addr: addr, Len: uint16(len(w)), Buf: uintptr(unsafe.Pointer(&w[0]))}
		n++
	}
	if len(r) > 0 {
		b.msgs[n] = msg{Addr: addr, Flags: flagRead, Len: uint16(len(r)), Buf: uintptr(unsafe.Pointer(&r[0]))}
		n++
	}
	data := rdwr{Msgs: uintptr(unsafe.Pointer(&b.msgs[0])), Nmsgs: uint32(n)}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(b.fd), ioctlRDWR, uintptr(unsafe.Pointer(&data)))
	runtime.KeepAlive(w)
	runtime.KeepAlive(r)
	runtime.KeepAlive(b)
	if errno != 0 {
		return fmt.Errorf("i2cdev: %s: tx to %#x: %w", b.name, addr, errno)
	}
	return nil
}

// SetSpeed is not supported: the bus speed is set by the device tree.
func (b *Bus) SetSpeed(f physic.Frequency) error {
	return errors.New("i2cdev: bus speed is set by the kernel (device tree), not at run time")
}

// SCL returns gpio.INVALID: the pins are not exposed.
func (b *Bus) SCL() gpio.PinIO { return gpio.INVALID }

// SDA returns gpio.INVALID.
func (b *Bus) SDA() gpio.PinIO { return gpio.INVALID }

// Close closes the device node.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return unix.Close(b.fd)
}
