// Package audio is the "audio" driver: it finds HD Audio or virtio-snd
// hardware by PCI class, vendor/device or virtio device type in sysfs, loads
// the kernel modules in the right order with their dependency closure, and
// waits for the ALSA PCM device nodes. Importing it registers the driver with
// periph's driverreg:
//
//	import _ "github.com/oemkit/messenger/drivers/audio"
//
// After driverreg.Init, OpenPlayback and OpenCapture give a Device in the
// format the caller wants (for example 8 kHz mono voice); it converts to and
// from what the hardware takes (QEMU's HDA codec: stereo, 16-96 kHz) with
// package convert. PlayTone plays a sine, for boot tests.
package audio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/audio/alsa"
	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/drivers/virtio"
	"periph.io/x/conn/v3/driver/driverreg"
)

// Hardware is an audio controller found in sysfs. Hardware.Device is the
// embedded sysfs.Device; the PCI device ID is Hardware.Device.Device.
type Hardware struct {
	sysfs.Device
	// Kind is "hda" or "virtio-snd".
	Kind string
	// Modules are the modules to load for it, in order (each with its
	// dependency closure).
	Modules []string
}

// Modules for each kind of hardware. snd_hda_codec_generic must be loaded
// before snd_hda_intel: the controller probes its codecs at once and, with no
// modprobe on the device to request the codec driver, finds none ("Cannot
// probe codecs") and creates no PCM.
var (
	hdaModules          = []string{"snd_hda_codec_generic", "snd_hda_intel"}
	virtioSndPCIModules = []string{"virtio_pci", "virtio_snd"}
	virtioSndModules    = []string{"virtio_snd"}
)

const (
	pciClassHDA        = 0x0403 // multimedia, HD Audio (class >> 8)
	virtioVendorPCI    = 0x1af4
	virtioSndPCIModern = 0x1059 // 0x1040 + virtio device type 25
	virtioIDSound      = 25
)

// Find lists the audio hardware under the sysfs root ("/sys" on a device).
func Find(sysRoot string) ([]Hardware, error) {
	var out []Hardware
	pci, err := sysfs.Devices(sysRoot, "pci")
	if err != nil {
		return nil, err
	}
	for _, d := range pci {
		switch {
		case d.Class>>8 == pciClassHDA:
			out = append(out, Hardware{Device: d, Kind: "hda", Modules: hdaModules})
		case d.Vendor == virtioVendorPCI && d.Device == virtioSndPCIModern:
			out = append(out, Hardware{Device: d, Kind: "virtio-snd", Modules: virtioSndPCIModules})
		}
	}
	vio, err := sysfs.Devices(sysRoot, "virtio")
	if err != nil {
		return nil, err
	}
	for _, d := range vio {
		if d.Device == virtioIDSound {
			out = append(out, Hardware{Device: d, Kind: "virtio-snd", Modules: virtioSndModules})
		}
	}
	return out, nil
}

// FindPCM returns the PCM device nodes under devRoot ("/dev"): playback
// nodes (pcmC*D*p) or capture nodes (pcmC*D*c), sorted.
func FindPCM(devRoot string, capture bool) []string {
	suffix := "p"
	if capture {
		suffix = "c"
	}
	m, _ := filepath.Glob(filepath.Join(devRoot, "snd", "pcmC*D*"+suffix))
	sort.Strings(m)
	return m
}

// nodesPresent reports whether every PCM and control device in
// /sys/class/sound has its /dev/snd node.
func nodesPresent(sysRoot, devRoot string) bool {
	m, _ := filepath.Glob(filepath.Join(sysRoot, "class", "sound", "pcmC*D*"))
	// The mixer is set through the card's control node, which devtmpfs
	// may create after the PCM nodes.
	c, _ := filepath.Glob(filepath.Join(sysRoot, "class", "sound", "controlC*"))
	for _, p := range append(m, c...) {
		if _, err := os.Stat(filepath.Join(devRoot, "snd", filepath.Base(p))); err != nil {
			return false
		}
	}
	return true
}

// controlsPresent reports whether each card has its control node. The
// kernel registers a card's control device after its PCMs (the mixer
// comes last, when the card is complete), so a card whose PCM nodes are
// all there may not have one yet: setting the mixer then would fail, and
// the codec would stay muted.
func controlsPresent(devRoot string, cards []int) bool {
	for _, c := range cards {
		if _, err := os.Stat(filepath.Join(devRoot, "snd", fmt.Sprintf("controlC%d", c))); err != nil {
			return false
		}
	}
	return true
}

// Cards returns the card numbers of PCM device paths (pcmC<card>D...),
// sorted, each once.
func Cards(pcms []string) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pcms {
		var card, dev int
		var dir byte
		if _, err := fmt.Sscanf(filepath.Base(p), "pcmC%dD%d%c", &card, &dev, &dir); err == nil && !seen[card] {
			seen[card] = true
			out = append(out, card)
		}
	}
	sort.Ints(out)
	return out
}

// Binding is what the driver bound.
type Binding struct {
	Hardware Hardware
	// Loaded are the modules loaded for it (already loaded ones are not
	// listed).
	Loaded []string
	// Playback and Capture are the PCM device nodes found afterwards.
	Playback, Capture []string
	// Mixer lists the mixer controls switched on or set to full volume.
	Mixer []string
}

// String is a one-line summary for the console.
func (b Binding) String() string {
	return fmt.Sprintf("audio: %s (%s) modules [%s] playback %v capture %v mixer [%s]",
		b.Hardware.Kind, b.Hardware.Device, strings.Join(b.Loaded, " "), b.Playback, b.Capture, strings.Join(b.Mixer, ", "))
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
var ErrNoHardware = errors.New("audio: no HD Audio or virtio-snd device on the PCI or virtio bus")

// Driver is the driverreg driver. Its fields let a test or a board point it
// elsewhere; the registered one uses the real paths.
type Driver struct {
	// SysRoot is the sysfs root, "/sys".
	SysRoot string
	// DevRoot is the device node root, "/dev".
	DevRoot string
	// PCMTimeout bounds the wait for the PCM nodes after loading.
	PCMTimeout time.Duration
	// Load loads modules with their closure; nil uses kmod on the running
	// kernel.
	Load func(names ...string) ([]string, error)
	// Mixer unmutes the playback and capture paths of a card; nil uses
	// alsa.UnmutePlayback and alsa.UnmuteCapture on DevRoot.
	Mixer func(card int) ([]string, error)
}

// String returns "audio".
func (d *Driver) String() string { return "audio" }

// Prerequisites returns nil: the driver needs no other driver.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init binds the audio hardware: false with ErrNoHardware when there is
// none (skipped), an error when loading the modules or finding the PCM
// failed.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	load := d.Load
	if load == nil {
		load = loadModules
	}
	// On arm64 virt the virtio devices appear once virtio_mmio is bound.
	hw, err := virtio.FindAfterMMIO(d.SysRoot, Find, load)
	if err != nil {
		return true, fmt.Errorf("audio: %w", err)
	}
	if len(hw) == 0 {
		return false, ErrNoHardware
	}
	step := time.Now()
	var bs []Binding
	for _, h := range hw {
		did, err := load(h.Modules...)
		if err != nil {
			return true, fmt.Errorf("audio: bind %s %s: %w", h.Kind, h.Name, err)
		}
		bs = append(bs, Binding{Hardware: h, Loaded: did})
	}
	// The kernel registers PCMs in sysfs at once; devtmpfs creates the
	// nodes a little later. Wait for a playback node and for every node
	// sysfs announces.
	inittime.Since("audio/modules", step)
	step = time.Now()
	deadline := time.Now().Add(d.PCMTimeout)
	var play []string
	for {
		play = FindPCM(d.DevRoot, false)
		if len(play) > 0 && nodesPresent(d.SysRoot, d.DevRoot) && controlsPresent(d.DevRoot, Cards(play)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(play) == 0 {
		return true, fmt.Errorf("audio: %s %s: modules loaded but no %s/snd/pcmC*D*p appeared within %v; check the kernel log (dmesg) for codec probe errors", hw[0].Kind, hw[0].Name, d.DevRoot, d.PCMTimeout)
	}
	inittime.Since("audio/pcm-nodes", step)
	step = time.Now()
	defer inittime.Since("audio/mixer", step)
	capture := FindPCM(d.DevRoot, true)
	mixer := d.Mixer
	if mixer == nil {
		mixer = func(card int) ([]string, error) {
			names, err := alsa.UnmutePlayback(d.DevRoot, card)
			if err != nil {
				return names, err
			}
			more, err := alsa.UnmuteCapture(d.DevRoot, card)
			return append(names, more...), err
		}
	}
	var set []string
	for _, card := range Cards(play) {
		// Codecs come up muted and the device has no alsactl.
		names, err := mixer(card)
		if err != nil {
			return true, fmt.Errorf("audio: card %d: unmute playback and capture: %w", card, err)
		}
		set = append(set, names...)
	}
	for i := range bs {
		bs[i].Playback, bs[i].Capture, bs[i].Mixer = play, capture, set
	}
	mu.Lock()
	bound = bs
	mu.Unlock()
	return true, nil
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevRoot: "/dev", PCMTimeout: 10 * time.Second})
}
