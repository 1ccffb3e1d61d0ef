// Package bcm2835 is the "bcm2835-audio" driver: the Raspberry Pi's audio
// (3.5 mm jack and HDMI), which the GPU firmware plays. The kernel reaches
// it through VCHIQ, the firmware's message queue: the device tree's
// "brcm,bcm2835-vchiq" node (a platform device) binds vchiq, which creates
// the platform device bcm2835_audio that snd-bcm2835 binds, which registers
// the ALSA card with its PCM nodes. Without the firmware (QEMU's raspi3b
// does not run it) vchiq fails to connect and no PCM appears; Init says so.
// Importing the package registers the driver with periph's driverreg.
package bcm2835

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"periph.io/x/conn/v3/driver/driverreg"
)

// Compatible is the device tree compatible of the VCHIQ node.
const Compatible = "brcm,bcm2835-vchiq"

// Modules are loaded in this order, each with its dependency closure.
var Modules = []string{"vchiq", "snd_bcm2835"}

// Find returns the platform devices under the sysfs root whose modalias
// names the VCHIQ compatible, sorted.
func Find(sysRoot string) ([]string, error) {
	dir := filepath.Join(sysRoot, "bus", "platform", "devices")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bcm2835-audio: %w", err)
	}
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "modalias"))
		if err != nil {
			continue
		}
		if OFCompatible(strings.TrimSpace(string(b)), Compatible) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// OFCompatible reports whether a device tree modalias
// ("of:NmailboxT(null)Cbrcm,bcm2836-vchiqCbrcm,bcm2835-vchiq") lists the
// compatible string c.
func OFCompatible(modalias, c string) bool {
	rest, ok := strings.CutPrefix(modalias, "of:")
	if !ok {
		return false
	}
	// The compatibles follow the first "C" after the type: N<name>T<type>C<c1>C<c2>...
	t := strings.Index(rest, "T")
	if t < 0 {
		return false
	}
	ci := strings.Index(rest[t:], "C")
	if ci < 0 {
		return false
	}
	list, want := rest[t+ci:], "C"+c
	return strings.HasSuffix(list, want) || strings.Contains(list, want+"C")
}

// Binding is what the driver bound.
type Binding struct {
	Device   string
	Loaded   []string
	Playback []string
}

// String is a one-line summary for the console.
func (b Binding) String() string {
	return fmt.Sprintf("bcm2835-audio: %s modules [%s] playback %v", b.Device, strings.Join(b.Loaded, " "), b.Playback)
}

var (
	mu    sync.Mutex
	bound []Binding
)

// Bound returns what the driver bound during driverreg.Init.
func Bound() []Binding {
	mu.Lock()
	defer mu.Unlock()
	return append([]Binding(nil), bound...)
}

// ErrNoHardware is the reason the driver is skipped.
var ErrNoHardware = errors.New("bcm2835-audio: no " + Compatible + " node on the platform bus (not a Raspberry Pi device tree)")

// ErrNoPCM is wrapped when the modules loaded but no PCM appeared.
var ErrNoPCM = errors.New("bcm2835-audio: vchiq and snd-bcm2835 loaded but no ALSA playback device appeared")

// Driver is the driverreg driver.
type Driver struct {
	SysRoot, DevRoot string // "/sys", "/dev"
	// PCMTimeout bounds the wait for the PCM nodes after loading.
	PCMTimeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
}

// String returns "bcm2835-audio".
func (d *Driver) String() string { return "bcm2835-audio" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init loads the modules and waits for a playback PCM node.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	devs, err := Find(d.SysRoot)
	if err != nil {
		return true, err
	}
	if len(devs) == 0 {
		return false, ErrNoHardware
	}
	load := d.Load
	if load == nil {
		load = loadModules
	}
	did, err := load(Modules...)
	if err != nil {
		return true, fmt.Errorf("bcm2835-audio: bind %s: %w", devs[0], err)
	}
	// vchiq probes the node while it loads; when the firmware does not
	// answer, the probe fails and the node stays without a driver: no PCM
	// will come, so say so at once instead of waiting.
	node := filepath.Join(d.SysRoot, "bus", "platform", "devices", devs[0], "driver")
	deadline := time.Now().Add(d.PCMTimeout)
	probed := time.Now().Add(d.PCMTimeout / 5)
	var play []string
	for {
		play, _ = filepath.Glob(filepath.Join(d.DevRoot, "snd", "pcmC*D*p"))
		if len(play) > 0 || time.Now().After(deadline) {
			break
		}
		if _, err := os.Lstat(node); err != nil && time.Now().After(probed) {
			return true, fmt.Errorf("%w: vchiq did not bind %s (its probe failed): the GPU firmware must answer VCHIQ, as start.elf does on a Raspberry Pi; QEMU does not emulate it; dmesg has the vchiq error", ErrNoPCM, devs[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(play) == 0 {
		return true, fmt.Errorf("%w within %v: vchiq is bound but snd-bcm2835 made no card; check dmesg for bcm2835_audio errors", ErrNoPCM, d.PCMTimeout)
	}
	sort.Strings(play)
	mu.Lock()
	bound = []Binding{{Device: devs[0], Loaded: did, Playback: play}}
	mu.Unlock()
	return true, nil
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevRoot: "/dev", PCMTimeout: 5 * time.Second})
}
