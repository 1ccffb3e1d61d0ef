package device

import (
	"errors"
	"os"
	"testing"

	drvaudio "github.com/oemkit/messenger/drivers/audio"
)

// On a machine without a sound card the adapters must fail with the
// driver's ErrNoPCM, which tells the user to check the driver binding.
func TestOpenWithoutHardware(t *testing.T) {
	if _, err := os.Stat("/dev/snd"); err == nil {
		t.Skip("/dev/snd exists: this machine has sound hardware; the QEMU image test covers it")
	}
	if _, err := OpenSpeaker(); !errors.Is(err, drvaudio.ErrNoPCM) {
		t.Errorf("OpenSpeaker() error = %v, want ErrNoPCM", err)
	}
	if _, err := OpenMicrophone(); !errors.Is(err, drvaudio.ErrNoPCM) {
		t.Errorf("OpenMicrophone() error = %v, want ErrNoPCM", err)
	}
}
