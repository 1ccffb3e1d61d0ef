package sdcard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/testenv"
)

// TestRecord writes a card into an image folder and records it: the
// manifest names the card with its size and sha256 (as it names disk
// images), the SBOM lists the firmware with the card's hash and each
// firmware file's; recording again replaces, not duplicates.
func TestRecord(t *testing.T) {
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	dir := t.TempDir()
	man := `{"bsp":"rpi3","initramfs":"initramfs.cpio.zst","kernel":{"file":"vmlinuz","arch":"arm64"},"features":["SYSGEN_COREOS"]}`
	sbom := `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"bom-ref":"image","type":"firmware","name":"sysgen-image-rpi3"}},"components":[{"bom-ref":"k","type":"operating-system","name":"linux-image"}],"dependencies":[{"ref":"image","dependsOn":["k"]}]}`
	os.WriteFile(filepath.Join(dir, image.ManifestFile), []byte(man), 0o644)
	os.WriteFile(filepath.Join(dir, image.SBOMFile), []byte(sbom), 0o644)
	card := filepath.Join(dir, ImageName)
	lay, err := Write(card, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Record(dir, card, t.TempDir(), lay); err != nil {
			t.Fatalf("Record = %v", err)
		}
	}
	m, err := image.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := m.SDCard
	if c == nil || c.File != ImageName || c.Size != DefaultSize || len(c.SHA256) != 64 || c.Partitions != 2 {
		t.Fatalf("manifest sdcard = %+v, want %s of %d bytes with its sha256 and 2 partitions", c, ImageName, DefaultSize)
	}
	if len(c.BootFiles) != len(lay.Files) || c.FirmwarePackage != FirmwarePackage || c.FirmwareVersion != "" {
		t.Errorf("manifest sdcard boot files %d (want %d), firmware %q %q (want %s, no version for a folder)", len(c.BootFiles), len(lay.Files), c.FirmwarePackage, c.FirmwareVersion, FirmwarePackage)
	}
	b, _ := os.ReadFile(filepath.Join(dir, image.SBOMFile))
	var bom struct {
		Components []struct {
			Ref        string                         `json:"bom-ref"`
			Name       string                         `json:"name"`
			Hashes     []struct{ Content string }     `json:"hashes"`
			Properties []struct{ Name, Value string } `json:"properties"`
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, comp := range bom.Components {
		if comp.Ref != "sdcard-firmware" {
			continue
		}
		found++
		if comp.Name != FirmwarePackage || len(comp.Hashes) != 1 || comp.Hashes[0].Content != c.SHA256 {
			t.Errorf("SBOM card component = %+v, want %s with the card's sha256", comp, FirmwarePackage)
		}
		props := map[string]string{}
		for _, p := range comp.Properties {
			props[p.Name] = p.Value
		}
		if props["sysgen:sdcard_image"] != ImageName || props["sysgen:sdcard_size"] != "268435456" || !strings.HasPrefix(props["sysgen:file:bootcode.bin"], "sha256:") {
			t.Errorf("SBOM card properties = %v, want the image, its size and the firmware files' hashes", props)
		}
	}
	if found != 1 {
		t.Errorf("SBOM has %d card components after two records, want 1", found)
	}
	if len(bom.Dependencies) != 1 || strings.Join(bom.Dependencies[0].DependsOn, ",") != "k,sdcard-firmware" {
		t.Errorf("SBOM dependencies = %+v, want the image to depend on k and sdcard-firmware", bom.Dependencies)
	}
}
