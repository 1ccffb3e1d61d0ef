package sdcard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/image"
)

// FirmwareVersion is the installed version of the firmware package
// (dpkg-query), or "" when dpkg does not know it (firmware from a folder).
func FirmwareVersion(fwDir string) string {
	if fwDir != "" && filepath.Clean(fwDir) != FirmwareDir {
		return ""
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", FirmwarePackage).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Record adds the card image written at file (Write's layout lay) to the
// manifest and SBOM of the image folder dir, with its size and sha256.
func Record(dir, file, fwDir string, lay *Layout) error {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("sdcard: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("sdcard: hash %s: %w", file, err)
	}
	if n != lay.Size {
		return fmt.Errorf("sdcard: %s is %d bytes and its layout says %d: write it again", file, n, lay.Size)
	}
	card := &image.ManifestSDCard{
		File: filepath.Base(file), Size: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		Partitions: len(lay.Partitions), FirmwarePackage: FirmwarePackage, FirmwareVersion: FirmwareVersion(fwDir),
	}
	for _, bf := range lay.Files {
		card.BootFiles = append(card.BootFiles, image.ManifestFileHash{Name: bf.Name, Size: bf.Size, SHA256: bf.SHA256})
	}
	card.FirmwareFiles = append(append(card.FirmwareFiles, Boards[m.BSP].Firmware...), LicenceFile)
	return image.RecordSDCard(dir, card)
}
