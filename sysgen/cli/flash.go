package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/image/disk"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func init() {
	extraCommands = append(extraCommands,
		command{"flash", "write a built disk image to a card, disk or file and verify it (flash IMAGE TARGET)", runFlash})
}

// runFlash writes IMAGE (an image folder, or its disk.img) to TARGET with a
// progress bar and reads it back. With --bsp or a design it refuses an image
// built for another board.
func runFlash(ctx context.Context, c *Context, args []string) error {
	fs, co := c.flags("flash", "flash IMAGE TARGET   (IMAGE: the folder sysgen build -o wrote, or its disk.img; TARGET: /dev/sdX or a file)", nil)
	quiet := fs.Bool("q", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("sysgen flash: want IMAGE and TARGET (e.g. sysgen flash out/ /dev/sdb)")
	}
	src, dst := pos[0], pos[1]
	if c.Dir != "" {
		if !filepath.IsAbs(src) {
			src = filepath.Join(c.Dir, src)
		}
		if !filepath.IsAbs(dst) {
			dst = filepath.Join(c.Dir, dst)
		}
	}
	board := co.bsp
	if board == "" && co.design != "" {
		p := co.design
		if !filepath.IsAbs(p) && c.Dir != "" {
			p = filepath.Join(c.Dir, p)
		}
		f, err := resolve.LoadFile(p)
		if err != nil {
			return err
		}
		board = f.BSP
	}
	img, err := disk.OpenImage(src)
	if err != nil {
		return err
	}
	o := disk.FlashOptions{Board: board}
	if !*quiet {
		o.Progress = c.Stderr
	}
	start := time.Now()
	fmt.Fprintf(c.Stdout, "flashing the %s disk image %s (%s) to %s\n", img.Board, img.Path, humanBytes(img.Size), pos[1])
	if err := disk.Flash(ctx, img, dst, o); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "flashed and verified %s in %.1fs (sha256 %.16s…)\n", pos[1], time.Since(start).Seconds(), img.SHA256)
	return nil
}
