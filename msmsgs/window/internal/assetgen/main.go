// Command assetgen writes the Messenger window's pictures and its Japanese
// glyph atlas into msmsgs/window/assets: the MSN emoticons as small animated
// GIFs, the status icons as PNGs, and cjk.atlas.gz, the glyphs of IPA P
// Gothic (Debian fonts-ipafont-gothic) that the shipped locales and the kana
// need, rasterized at the window's text size. The output is deterministic;
// TestAssetsUpToDate checks that the committed files are what this writes.
//
//	go run ./msmsgs/window/internal/assetgen -o msmsgs/window/assets
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/msmsgs/window/internal/art"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "assetgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("assetgen", flag.ContinueOnError)
	out := fs.String("o", "", "output `dir` (msmsgs/window/assets)")
	fontPath := fs.String("font", art.DefaultCJKFont, "CJK TrueType `file` for the glyph atlas")
	locales := fs.String("locales", "", "msgslang locale `dir` whose strings the atlas covers (msgslang/locales)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *locales == "" {
		return errors.New("usage: assetgen -o DIR -locales DIR [-font FILE]")
	}
	files, err := art.All(*fontPath, *locales)
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(*out, f.Name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := fsutil.WriteFileAtomic(p, f.Data, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", p)
	}
	return nil
}
