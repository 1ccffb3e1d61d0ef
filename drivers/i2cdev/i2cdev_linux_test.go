package i2cdev

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestLayout(t *testing.T) {
	if got := unsafe.Sizeof(msg{}); got != 16 {
		t.Errorf("sizeof(i2c_msg) = %d, want 16", got)
	}
	if got := unsafe.Offsetof(msg{}.Buf); got != 8 {
		t.Errorf("offsetof(i2c_msg.buf) = %d, want 8", got)
	}
	if got := unsafe.Sizeof(rdwr{}); got != 16 {
		t.Errorf("sizeof(i2c_rdwr_ioctl_data) = %d, want 16", got)
	}
}

func TestBuses(t *testing.T) {
	dev := t.TempDir()
	for _, n := range []string{"i2c-10", "i2c-2", "i2c-x", "tty0"} {
		os.WriteFile(filepath.Join(dev, n), nil, 0o644)
	}
	if got, want := Buses(dev), []int{2, 10}; !cmp.Equal(got, want) {
		t.Errorf("Buses = %v, want %v", got, want)
	}
	if _, err := Open(dev, 99); err == nil {
		t.Errorf("Open(missing bus) = nil error, want error")
	}
}
