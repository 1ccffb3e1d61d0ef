package design

import (
	"fmt"
	"strings"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/modroot"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// Source says where a design comes from, as the sysgen command line takes
// it: a catalog folder, an optional osdesign.toml, the OEM's environment
// (SYSGEN_X=1 flags, IMGNOLOC=1) and an optional --bsp.
type Source struct {
	// Catalog is the catalog root folder; "" means the module holding the
	// working directory.
	Catalog string
	// File is the osdesign.toml path; "" means none.
	File string
	// Env is the environment, as os.Environ().
	Env []string
	// BSP overrides the design file's BSP; "" keeps it (or the default).
	BSP string
}

// Design is a loaded, resolved OS design.
type Design struct {
	// Catalog is the catalog the design was resolved from.
	Catalog *feature.Catalog
	// File is the design file, or nil.
	File *resolve.File
	// Selection is what the OEM asked for.
	Selection resolve.Design
	// Result is the resolved design.
	Result *resolve.Result
	// Options are derived from the environment (IMGNOLOC).
	Options Options
}

// Load reads the catalog and the design file, takes the flags from the
// environment and resolves the design.
func Load(src Source) (*Design, error) {
	root := src.Catalog
	if root == "" {
		var err error
		if root, err = modroot.Find("."); err != nil {
			return nil, fmt.Errorf("design: %w; pass the catalog folder", err)
		}
	}
	cat, err := feature.Load(root)
	if err != nil {
		return nil, err
	}
	d := &Design{Catalog: cat, Options: EnvOptions(src.Env)}
	if src.File != "" {
		if d.File, err = resolve.LoadFile(src.File); err != nil {
			return nil, err
		}
	}
	env, err := resolve.FlagsFromEnv(src.Env)
	if err != nil {
		return nil, err
	}
	d.Selection, _ = resolve.Combine(d.File, env, src.BSP)
	if len(d.Selection.Set) == 0 {
		return nil, fmt.Errorf("%w: no items selected: set an OEM flag (e.g. SYSGEN_MESSENGER=1) or name a design file", ErrDesign)
	}
	if d.Result, err = resolve.Resolve(cat, d.Selection); err != nil {
		return nil, err
	}
	return d, nil
}

// Spec is the image spec of the design (see the package function Spec).
func (d *Design) Spec() (image.Spec, error) {
	return Spec(d.Catalog, d.Result, d.File, d.Options)
}

// Pending is the design's items whose implementation is still to come.
func (d *Design) Pending() []*feature.Item { return Pending(d.Result) }

// envValue is the value of key in an os.Environ()-style list.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// EnvOptions are the Options an OEM environment asks for (IMGNOLOC=1).
func EnvOptions(env []string) Options {
	return Options{DefaultLocaleOnly: envValue(env, "IMGNOLOC") == "1"}
}
