package image

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemkit/messenger/image/disk"
	"github.com/oemkit/messenger/internal/testenv"
)

// TestWriteDisk writes the disk image of a made-up system twice: the same
// bytes, and a manifest entry naming its size, hash, GPT layout and the
// systemd-boot it carries (package, version, hash of the host's file).
func TestWriteDisk(t *testing.T) {
	if _, _, err := disk.Loader(); err != nil {
		testenv.Missing(t, "%v", err)
	}
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	spec := Spec{BSP: "qemu-x86_64", GOARCH: "amd64", Cmdline: "console=ttyS0"}
	man := &Manifest{BSP: "qemu-x86_64"}
	kernel, initramfs := bytes.Repeat([]byte("k"), 1<<20), bytes.Repeat([]byte("i"), 1<<20)
	var sums []string
	for i := 0; i < 2; i++ {
		p, md, err := writeDisk(spec, man, filepath.Join(t.TempDir(), "img"), kernel, initramfs)
		if err != nil || md == nil {
			t.Fatalf("writeDisk() = %v, %v", md, err)
		}
		defer os.Remove(p)
		st, err := os.Stat(p)
		if err != nil || st.Size() != md.Size {
			t.Errorf("disk file size %v, manifest says %d", st, md.Size)
		}
		if sum, _ := fileSHA256(p); sum != md.SHA256 {
			t.Errorf("disk sha256 = %s, manifest says %s", sum, md.SHA256)
		}
		efi, _ := os.ReadFile(disk.LoaderPath)
		if md.LoaderPackage != "systemd-boot-efi" || md.LoaderVersion == "" || md.LoaderSHA256 != sha256Hex(efi) {
			t.Errorf("loader entry = %s %s %s, want systemd-boot-efi, its version and the hash of %s", md.LoaderPackage, md.LoaderVersion, md.LoaderSHA256, disk.LoaderPath)
		}
		if md.File != DiskFile || len(md.Layout.Partitions) != 2 || md.Layout.Partitions[1].Label != disk.StateLabel {
			t.Errorf("disk entry = %+v, want %s with ESP and %s", md, DiskFile, disk.StateLabel)
		}
		sums = append(sums, md.SHA256)
	}
	if sums[0] != sums[1] {
		t.Errorf("two disk images of the same inputs differ: %s, %s", sums[0], sums[1])
	}
}
