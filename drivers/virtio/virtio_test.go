package virtio

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/drivers/sysfs/sysfstest"
)

func TestTransports(t *testing.T) {
	for _, tt := range []struct {
		name string
		devs [][3]string
		want []string
	}{
		{"x86 virtio-net-pci", [][3]string{
			{"pci", "0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"},
			{"pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00"},
		}, []string{"virtio_pci"}},
		{"arm64 virt dt", [][3]string{
			{"platform", "a000000.virtio_mmio", "of:NvirtioT(null)Cvirtio,mmio"},
			{"platform", "9000000.pl011", "of:Npl011T(null)Carm,pl011Carm,primecell"},
		}, []string{"virtio_mmio"}},
		{"arm64 virt acpi", [][3]string{{"platform", "LNRO0005:00", "acpi:LNRO0005:"}}, []string{"virtio_mmio"}},
		{"both", [][3]string{
			{"pci", "0000:00:02.0", "pci:v00001AF4d00001044sv00001AF4sd00001100bc00scFFi00"},
			{"platform", "a000000.virtio_mmio", "of:NvirtioT(null)Cvirtio,mmio"},
		}, []string{"virtio_pci", "virtio_mmio"}},
		{"e1000 only", [][3]string{{"pci", "0000:00:03.0", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"}}, nil},
		{"not virtio: 1af4 outside the range", [][3]string{{"pci", "0000:00:03.0", "pci:v00001AF4d00001100sv00001AF4sd00001100bc02sc00i00"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tt.devs {
				sysfstest.AddDevice(t, root, d[0], d[1], d[2])
			}
			got, err := Transports(root)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Transports mismatch (-want +got):\n%s", d)
			}
		})
	}
}
