package image

import (
	"os"
	"testing"
)

// Real Debian kernel packages the BSPs pin (checked with sha256sum).
var (
	kernelAMD64 = KernelPackage{
		Name: "linux-image-6.1.0-56-amd64", Version: "6.1.192-2", Arch: "amd64",
		SHA256:  "a86e2049672f52354c4536a089203b6c82639420424d31c91cf31a181fd4d8f1",
		Vmlinuz: "boot/vmlinuz-6.1.0-56-amd64",
	}
	kernelARM64 = KernelPackage{
		Name: "linux-image-6.1.0-56-arm64", Version: "6.1.192-2", Arch: "arm64",
		SHA256:  "6f4ed2d1cb9106bc977c2b1960008f175e2eed5740340634b7894e65ef5acc82",
		Vmlinuz: "boot/vmlinuz-6.1.0-56-arm64",
	}
)

// MessengerSpec is a Messenger-like design for one of the QEMU BSPs (exported
// for the boot test in package image_test).
func MessengerSpec(bsp string) Spec {
	features := []string{"SYSGEN_MESSENGER", "SYSGEN_ETHERNET", "SYSGEN_AUDIO_HDA"}
	switch bsp {
	case "qemu-aarch64":
		return Spec{
			BSP: bsp, GOARCH: "arm64", Kernel: kernelARM64,
			Cmdline: "console=ttyAMA0 quiet modules_load=virtio_pci,virtio_rng",
			QEMU: []string{"qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg", "-m", "512",
				"-nographic", "-no-reboot", "-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}",
				"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci",
				"-audiodev", "wav,id=a0,path={wav}", "-device", "intel-hda", "-device", "hda-output,audiodev=a0"},
			Budget: 64 << 20,
			Modules: []Module{
				{Name: "virtio_pci", Feature: "SYSGEN_ETHERNET"},
				{Name: "virtio_net", Feature: "SYSGEN_ETHERNET"},
				{Name: "virtio_rng", Feature: "SYSGEN_ETHERNET"},
				{Name: "snd_hda_codec_generic", Feature: "SYSGEN_AUDIO_HDA"},
				{Name: "snd_hda_intel", Feature: "SYSGEN_AUDIO_HDA"},
			},
			Settings: []byte(`{"messenger":{"server":"10.0.2.2:1863"}}` + "\n"),
			Features: features,
		}
	default:
		return Spec{
			BSP: "qemu-x86_64", GOARCH: "amd64", Kernel: kernelAMD64,
			Cmdline: "console=ttyS0 quiet modules_load=virtio_pci,virtio_rng",
			QEMU: []string{"qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
				"-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}",
				"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci",
				"-audiodev", "wav,id=a0,path={wav}", "-device", "intel-hda", "-device", "hda-output,audiodev=a0"},
			Budget: 64 << 20,
			Modules: []Module{
				{Name: "virtio_pci", Feature: "SYSGEN_ETHERNET"},
				{Name: "virtio_net", Feature: "SYSGEN_ETHERNET"},
				{Name: "virtio_rng", Feature: "SYSGEN_ETHERNET"},
				{Name: "snd_hda_codec_generic", Feature: "SYSGEN_AUDIO_HDA"},
				{Name: "snd_hda_intel", Feature: "SYSGEN_AUDIO_HDA"},
			},
			Settings: []byte(`{"messenger":{"server":"10.0.2.2:1863"}}` + "\n"),
			Files:    []File{{Data: []byte("Messenger lab device\n"), Dst: "/etc/motd", Feature: "SYSGEN_MESSENGER"}},
			Features: features,
		}
	}
}

// NeedKernel skips when the kernel package cannot be fetched here.
func NeedKernel(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a real image; skipped in -short mode")
	}
	if _, err := os.Stat("/usr/bin/apt-get"); err != nil {
		t.Skip("needs apt-get and dpkg-deb to fetch the Debian kernel (a Debian host)")
	}
}
