package qemu

import (
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
)

// TestDiskArgv turns the BSP's -kernel command line into the UEFI one: no
// kernel, initrd, append or -no-reboot; the disk image where the state disk
// was; OVMF as two pflash drives, its code read-only.
func TestDiskArgv(t *testing.T) {
	m := &image.Manifest{QEMU: []string{"qemu-system-x86_64", "-m", "512", "-no-reboot", "-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}",
		"-drive", "file={state},format=raw,if=none,id=state0", "-device", "virtio-blk-pci,drive=state0", "-audiodev", "wav,id=a0,path={wav}"}}
	got := strings.Join(DiskArgv(m, "/d/disk.img", "/d/vars.fd", "/d/a.wav"), " ")
	want := "qemu-system-x86_64 -m 512 -drive file=/d/disk.img,format=raw,if=none,id=state0 -device virtio-blk-pci,drive=state0 -audiodev wav,id=a0,path=/d/a.wav" +
		" -drive if=pflash,format=raw,unit=0,readonly=on,file=" + OVMFCode + " -drive if=pflash,format=raw,unit=1,file=/d/vars.fd"
	if got != want {
		t.Errorf("DiskArgv() =\n%s\nwant\n%s", got, want)
	}
	m.QEMU = []string{"qemu-system-x86_64", "-kernel", "{kernel}"}
	if got := strings.Join(DiskArgv(m, "/d/disk.img", "/v", ""), " "); !strings.Contains(got, "-drive file=/d/disk.img,format=raw,if=virtio") {
		t.Errorf("DiskArgv(no state disk) = %s, want the disk added as virtio", got)
	}
}
