package partfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// TestWithEpoch: the variable is set only while fn runs and gone after
// (also when fn fails); a value the user set is kept and wins.
func TestWithEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	os.Unsetenv("SOURCE_DATE_EPOCH")
	var during string
	boom := errors.New("boom")
	err := WithEpoch(946684800, func() error { during = os.Getenv("SOURCE_DATE_EPOCH"); return boom })
	if !errors.Is(err, boom) || during != "946684800" {
		t.Errorf("WithEpoch: fn saw %q and returned %v, want 946684800 and boom", during, err)
	}
	if v, set := os.LookupEnv("SOURCE_DATE_EPOCH"); set {
		t.Errorf("after WithEpoch SOURCE_DATE_EPOCH = %q, want it unset", v)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	WithEpoch(946684800, func() error { during = os.Getenv("SOURCE_DATE_EPOCH"); return nil })
	if during != "1700000000" || os.Getenv("SOURCE_DATE_EPOCH") != "1700000000" {
		t.Errorf("WithEpoch with the user's value: fn saw %q, after %q; want 1700000000 both", during, os.Getenv("SOURCE_DATE_EPOCH"))
	}
}

// TestFATReproducible writes the same FAT file system (with a folder, so
// "." and ".." entries exist) twice a second apart: the bytes match, and
// the process environment is as it was.
func TestFATReproducible(t *testing.T) {
	os.Unsetenv("SOURCE_DATE_EPOCH")
	write := func(name string) []byte {
		p := filepath.Join(t.TempDir(), name)
		d, err := diskfs.Create(p, 64<<20, diskfs.SectorSizeDefault)
		if err != nil {
			t.Fatal(err)
		}
		tab := &mbr.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, Partitions: []*mbr.Partition{{Index: 1, Type: mbr.Fat32LBA, Start: 2048, Size: (64<<20)/512 - 2048}}}
		if err := d.Partition(tab); err != nil {
			t.Fatal(err)
		}
		err = WithEpoch(946684800, func() error {
			fs, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "T", Reproducible: true})
			if err != nil {
				return err
			}
			return WriteFiles(fs, map[string][]byte{"/a/b/c.txt": []byte("c"), "/top": []byte("t")})
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := write("a.img")
	if _, set := os.LookupEnv("SOURCE_DATE_EPOCH"); set {
		t.Fatalf("SOURCE_DATE_EPOCH left set after the write")
	}
	time.Sleep(2100 * time.Millisecond) // FAT time stamps have 2 s steps
	b := write("b.img")
	if string(a) != string(b) {
		t.Errorf("two FAT writes differ: time stamps leak into the image")
	}
}
