package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/drivers/sysfs/sysfstest"
)

// Modaliases as a Raspberry Pi 3 B and QEMU's raspi3b with usb-net show
// them in /sys/bus/usb/devices/*/modalias.
const (
	aliasRootHub = "usb:v1D6Bp0002d0601dc09dsc00dp01ic09isc00ip00in00"
	aliasLAN9514 = "usb:v0424p9514d0200dc09dsc00dp02ic09isc00ip01in00"
	aliasSMSC    = "usb:v0424pEC00d0200dcFFdsc00dp01icFFisc00ip00in00"
	aliasQEMUNet = "usb:v0525pA4A2d0000dc02dsc00dp00ic02isc06ip00in00"
	aliasQEMUDat = "usb:v0525pA4A2d0000dc02dsc00dp00ic0Aisc00ip00in01"
	aliasRNDIS   = "usb:v1234p5678d0100dcEFdsc02dp01icE0isc01ip03in00"
	aliasStorage = "usb:v0781p5567d0100dc00dsc00dp00ic08isc06ip50in00"
)

func TestParseUSBModalias(t *testing.T) {
	a, err := ParseUSBModalias(aliasSMSC)
	if err != nil {
		t.Fatal(err)
	}
	want := USBAlias{Vendor: 0x0424, Product: 0xec00, BCD: 0x0200, DevClass: 0xff, DevProto: 1, IfClass: 0xff}
	if a != want {
		t.Errorf("ParseUSBModalias(%q) = %+v, want %+v", aliasSMSC, a, want)
	}
	for _, bad := range []string{"", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "usb:v0424", "usb:vXXXXpEC00d0200dcFFdsc00dp01icFFisc00ip00in00", "usb:" + strings.Repeat("v", 200)} {
		if _, err := ParseUSBModalias(bad); err == nil {
			t.Errorf("ParseUSBModalias(%q) = nil error, want one", bad)
		}
	}
}

func FuzzParseUSBModalias(f *testing.F) {
	for _, s := range []string{aliasRootHub, aliasSMSC, aliasQEMUNet, aliasRNDIS, "usb:", "usb:v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseUSBModalias(s)
		if err != nil {
			return
		}
		if a.Vendor > 0xffff || a.Product > 0xffff || a.IfClass > 0xff {
			t.Fatalf("ParseUSBModalias(%q) = %+v: field out of range", s, a)
		}
	})
}

func TestFindUSB(t *testing.T) {
	for _, tc := range []struct {
		name string
		devs map[string]string
		want string // "name vendor:product modules" per NIC, joined by ;
	}{
		{"raspberry pi 3 b", map[string]string{"usb1": "", "1-0:1.0": aliasRootHub, "1-1": "", "1-1:1.0": aliasLAN9514, "1-1.1": "", "1-1.1:1.0": aliasSMSC}, "1-1.1 0424:ec00 smsc,smsc95xx"},
		{"qemu raspi3b usb-net", map[string]string{"usb1": "", "1-0:1.0": aliasRootHub, "1-1": "", "1-1:1.0": aliasQEMUNet, "1-1:1.1": aliasQEMUDat}, "1-1 0525:a4a2 cdc_ether"},
		{"rndis by class", map[string]string{"1-2:1.0": aliasRNDIS}, "1-2 1234:5678 rndis_host"},
		{"no nic", map[string]string{"usb1": "", "1-0:1.0": aliasRootHub, "1-3:1.0": aliasStorage}, ""},
		{"no usb bus", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, alias := range tc.devs {
				sysfstest.AddDevice(t, root, "usb", name, alias)
			}
			nics, err := FindUSB(root)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range nics {
				got = append(got, n.Name+" "+n.Device.String()[len("usb "+n.Name+" "):]+" "+strings.Join(n.Modules, ","))
			}
			if g := strings.Join(got, ";"); g != tc.want {
				t.Errorf("FindUSB = %q, want %q", g, tc.want)
			}
		})
	}
}

// TestWaitUSB: with a root hub the driver waits for the NIC the bus is
// still enumerating; without one it returns at once.
func TestWaitUSB(t *testing.T) {
	root := t.TempDir()
	start := time.Now()
	if nics, err := waitUSB(root, 5*time.Second); err != nil || len(nics) != 0 || time.Since(start) > time.Second {
		t.Fatalf("waitUSB(no host) = %v, %v after %v; want nothing at once", nics, err, time.Since(start))
	}
	sysfstest.AddDevice(t, root, "usb", "usb1", "")
	sysfstest.AddDevice(t, root, "usb", "1-0:1.0", aliasRootHub)
	go func() {
		time.Sleep(300 * time.Millisecond)
		dir := filepath.Join(root, "bus", "usb", "devices", "1-1.1:1.0")
		tmp := dir + ".tmp"
		os.MkdirAll(tmp, 0o755)
		os.WriteFile(filepath.Join(tmp, "modalias"), []byte(aliasSMSC+"\n"), 0o644)
		os.Rename(tmp, dir)
	}()
	nics, err := waitUSB(root, 10*time.Second)
	if err != nil || len(nics) != 1 || nics[0].Modules[1] != "smsc95xx" {
		t.Fatalf("waitUSB = %+v, %v; want the SMSC NIC once it enumerates", nics, err)
	}
	if nics, _ := waitUSB(t.TempDir(), 0); len(nics) != 0 {
		t.Errorf("waitUSB(empty) = %v", nics)
	}
}
