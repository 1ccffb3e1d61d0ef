package cli

import (
	"context"
	"fmt"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func init() {
	extraCommands = append(extraCommands,
		command{"kernel", "download, check and unpack the BSPs' pinned Debian kernels into the cache (--all: every BSP)", runKernel})
}

// runKernel fetches the kernel of the design's BSP (or of every BSP with
// --all) into the kernel cache, so that later builds and tests find it.
func runKernel(ctx context.Context, c *Context, args []string) error {
	fs, co := c.flags("kernel", "kernel [--bsp NAME | --all]", nil)
	all := fs.Bool("all", false, "fetch the kernel of every BSP in the catalog")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cat, _, err := c.loadCatalog(co)
	if err != nil {
		return err
	}
	want := co.bsp
	if want == "" && !*all {
		want = resolve.DefaultBSP
	}
	n := 0
	for _, it := range cat.BSPs() {
		b := it.BSP
		if !*all && b.Name != want {
			continue
		}
		k, err := image.FetchItemKernel(ctx, it)
		if err != nil {
			return fmt.Errorf("sysgen kernel: BSP %s: %w", b.Name, err)
		}
		fmt.Fprintf(c.Stdout, "%s\t%s\t%s\n", b.Name, k.Release, k.Root)
		n++
	}
	if n == 0 {
		return fmt.Errorf("sysgen kernel: no BSP named %q in the catalog: run `sysgen list` for the BSPs", want)
	}
	return nil
}
