package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/image/sdcard"
)

func init() {
	extraCommands = append(extraCommands,
		command{"sdcard", "write the SD card image of a built Raspberry Pi image folder (boot partition with firmware, kernel, device tree, initramfs; state partition)", runSDCard})
}

// runSDCard writes the SD card image for an image folder built for a board
// that boots from an SD card (sysgen build --bsp rpi3 -o DIR).
func runSDCard(ctx context.Context, c *Context, args []string) error {
	fs, _ := c.flags("sdcard", "sdcard -o FILE [--firmware DIR] IMAGE-DIR", nil)
	out := fs.String("o", "", "SD card image file to write (replaced atomically)")
	fw := fs.String("firmware", sdcard.FirmwareDir, "folder with the Raspberry Pi firmware (bootcode.bin, start.elf, fixup.dat)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) != 1 {
		return usageErr("usage: sysgen sdcard -o FILE [--firmware DIR] IMAGE-DIR (an image folder from sysgen build --bsp rpi3)")
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) && c.Dir != "" {
			return filepath.Join(c.Dir, p)
		}
		return p
	}
	start := time.Now()
	lay, err := sdcard.WriteImage(ctx, abs(pos[0]), abs(*out), abs(*fw))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wrote %s (%d MiB, disk signature %s) in %.1fs:\n", *out, lay.Size>>20, lay.Signature, time.Since(start).Seconds())
	for _, p := range lay.Partitions {
		fmt.Fprintf(c.Stdout, "  p%d type %s %-5s %4d MiB at %d MiB\n", p.Index, p.Type, p.Label, p.Size>>20, p.Start>>20)
	}
	for _, f := range lay.Files {
		fmt.Fprintf(c.Stdout, "  %-22s %10d  %s\n", f.Name, f.Size, f.SHA256[:16])
	}
	return nil
}
