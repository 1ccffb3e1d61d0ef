package watchdog

import (
	"fmt"
	"os"
	"time"

	"github.com/oemkit/messenger/drivers/kmod"
	"golang.org/x/sys/unix"
)

func loadModules(names ...string) ([]string, error) {
	idx, err := kmod.Open()
	if err != nil {
		return nil, err
	}
	return idx.Load(nil, names...)
}

// Open starts the watchdog at path (Path) with the given timeout
// (WDIOC_SETTIMEOUT; the driver may round it) and returns it armed.
func Open(path string, timeout time.Duration) (*Dev, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("watchdog: open %s: %w", path, err)
	}
	w := &Dev{f: f}
	if err := w.SetTimeout(timeout); err != nil {
		// Leave it armed: closing without the magic byte does not stop it,
		// and a watchdog that cannot be set is better running than not.
		return w, err
	}
	return w, nil
}

// SetTimeout changes the timeout (which also restarts the count) and
// reads back what the driver took.
func (w *Dev) SetTimeout(timeout time.Duration) error {
	fd := int(w.f.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.WDIOC_SETTIMEOUT, Seconds(timeout)); err != nil {
		return fmt.Errorf("watchdog: set the timeout to %ds (WDIOC_SETTIMEOUT): %w (the i6300esb takes 1 to 2046 s)", Seconds(timeout), err)
	}
	got, err := unix.IoctlGetInt(fd, unix.WDIOC_GETTIMEOUT)
	if err != nil {
		return fmt.Errorf("watchdog: read the timeout back (WDIOC_GETTIMEOUT): %w", err)
	}
	w.timeout = time.Duration(got) * time.Second
	return nil
}

// Kick restarts the count (WDIOC_KEEPALIVE).
func (w *Dev) Kick() error {
	if _, err := unix.IoctlGetInt(int(w.f.Fd()), unix.WDIOC_KEEPALIVE); err != nil {
		return fmt.Errorf("watchdog: kick (WDIOC_KEEPALIVE): %w", err)
	}
	return nil
}

// Disarm stops the timer (the magic close: "V" then close) where the
// driver allows it (no nowayout).
func (w *Dev) Disarm() error {
	if _, err := w.f.Write([]byte("V")); err != nil {
		w.f.Close()
		return fmt.Errorf("watchdog: disarm: %w", err)
	}
	return w.f.Close()
}
