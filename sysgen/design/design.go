// Package design is the design-to-image step: a resolved OS design (the
// items sysgen/resolve selected, the BSP and the optional osdesign.toml) in,
// the image builder's input (image.Spec) out.
//
// It sits between sysgen/resolve and image: the sysgen CLI (build), the demo
// and the image tests all make their specs here, from the real catalog and
// BSP manifests. Nothing feature-specific is written in this package or in
// image: which command is the shell, which extra build tags a feature needs,
// where the design's certificates and locales go and who carries the
// settings file all come from the items' feature.toml manifests. Spec never
// changes its inputs.
package design

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/modroot"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// ErrDesign is wrapped by every error about a design that cannot become an
// image (as opposed to an error reading a file).
var ErrDesign = errors.New("design")

// Options change how a design becomes a spec.
type Options struct {
	// DefaultLocaleOnly puts only the first locale into the image (CE's
	// IMGNOLOC=1).
	DefaultLocaleOnly bool
}

// Spec turns a resolved design into the image builder's input. cat is the
// catalog r was resolved from (it names the items a design would need for
// its certificates or locales); f is the design file, or nil. Neither r, f
// nor the catalog's items are changed.
func Spec(cat *feature.Catalog, r *resolve.Result, f *resolve.File, o Options) (image.Spec, error) {
	b := r.BSP.BSP
	spec := image.Spec{
		BSP: b.Name, GOARCH: b.Arch,
		Kernel:  image.BSPKernel(r.BSP),
		Cmdline: b.Cmdline, QEMU: slices.Clone(b.QEMU), Budget: b.BudgetBytes,
	}
	mods := moduleCache{}
	for _, sel := range r.Items {
		it := sel.Item
		spec.Features = append(spec.Features, it.ID)
		spec.Tags = append(spec.Tags, it.BuildTags...)
		for _, cmd := range it.Commands {
			pkg, err := mods.importPath(it, cmd)
			if err != nil {
				return spec, err
			}
			spec.Commands = append(spec.Commands, image.Command{Pkg: pkg, Feature: it.ID})
		}
		if it.Shell != "" {
			if !slices.Contains(it.Commands, it.Shell) {
				return spec, fmt.Errorf("%w: %s: shell %q is not one of the item's commands; add it to commands", ErrDesign, it.File, it.Shell)
			}
			if spec.Shell != "" {
				return spec, fmt.Errorf("%w: %s and another item both name a shell (%s); keep one in the design", ErrDesign, it.ID, spec.Shell)
			}
			spec.Shell, _ = mods.importPath(it, it.Shell)
		}
		for _, fl := range it.Files {
			mode := uint64(0o644)
			if fl.Mode != "" {
				var err error
				if mode, err = strconv.ParseUint(fl.Mode, 8, 32); err != nil {
					return spec, fmt.Errorf("%w: %s: file %s: mode %q is not octal, e.g. \"0755\"", ErrDesign, it.File, fl.Dst, fl.Mode)
				}
			}
			spec.Files = append(spec.Files, image.File{Src: filepath.Join(it.Dir, fl.Src), Dst: fl.Dst, Mode: uint32(mode), Feature: it.ID})
		}
		for _, m := range it.KernelModules {
			spec.Modules = append(spec.Modules, image.Module{Name: m, Feature: it.ID})
		}
		for _, sv := range it.Services {
			spec.Services = append(spec.Services, image.Service{Name: sv.Name, Argv: append([]string{sv.Name}, sv.Args...), Restart: sv.Restart})
		}
		if it.SettingsFile && spec.SettingsFeature == "" {
			spec.SettingsFeature = it.ID
		}
	}
	certs, err := certificates(cat, r, f)
	if err != nil {
		return spec, err
	}
	spec.Files = append(spec.Files, certs...)
	locales, localeSetting, err := locales(cat, r, f, o)
	if err != nil {
		return spec, err
	}
	spec.Files = append(spec.Files, locales...)
	settings, err := mergeSettings(r, f, localeSetting)
	if err != nil {
		return spec, err
	}
	if spec.Settings, err = resolve.SettingsFile(settings); err != nil {
		return spec, err
	}
	return spec, nil
}

// MergeSettings is the merged settings of the image Spec makes (the items'
// defaults, the BSP's, the design file's overrides, and the first locale
// the design names), with where each value comes from.
func MergeSettings(cat *feature.Catalog, r *resolve.Result, f *resolve.File, o Options) ([]resolve.Setting, error) {
	_, setting, err := locales(cat, r, f, o)
	if err != nil {
		return nil, err
	}
	return mergeSettings(r, f, setting)
}

// mergeSettings merges with one more design-level value (key, value) that
// the design file's own [settings] win over; f is copied, not changed.
func mergeSettings(r *resolve.Result, f *resolve.File, extra []string) ([]resolve.Setting, error) {
	if len(extra) == 2 && f != nil {
		if _, set := f.Settings[extra[0]]; !set {
			g := *f
			g.Settings = make(map[string]any, len(f.Settings)+1)
			for k, v := range f.Settings {
				g.Settings[k] = v
			}
			g.Settings[extra[0]] = extra[1]
			f = &g
		}
	}
	return resolve.MergeSettings(r, f)
}

// Pending returns the items of the design whose implementation is still to
// come (pending = "..." in their manifest), in build order.
func Pending(r *resolve.Result) []*feature.Item {
	var out []*feature.Item
	for _, sel := range r.Items {
		if sel.Item.Pending != "" {
			out = append(out, sel.Item)
		}
	}
	return out
}

// PendingLine is the line sysgen prints for a pending item.
func PendingLine(it *feature.Item) string {
	return fmt.Sprintf("pending: %s (%s) is in the design but not yet on the device: %s", it.ID, it.Title, it.Pending)
}

// carriers returns the catalog items for which has is true, and whether one
// of them is selected in r (that one first).
func carriers(cat *feature.Catalog, r *resolve.Result, has func(*feature.Item) bool) (*feature.Item, []string) {
	var names []string
	for _, sel := range r.Items {
		if has(sel.Item) {
			return sel.Item, nil
		}
	}
	if cat != nil {
		for _, it := range cat.Items {
			if has(it) {
				names = append(names, fmt.Sprintf("%s (%s); set %s=1", it.ID, it.Title, it.ID))
			}
		}
	}
	return nil, names
}

func needItem(what string, f *resolve.File, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: %s names %s but no catalog item takes them; remove them from the design", ErrDesign, f.Path, what)
	}
	return fmt.Errorf("%w: %s names %s but the design lacks the item that takes them: %s", ErrDesign, f.Path, what, strings.Join(names, ", or "))
}

// certificates copies the design's certificates into the certificate store
// of the selected item that has cert_dir.
func certificates(cat *feature.Catalog, r *resolve.Result, f *resolve.File) ([]image.File, error) {
	if f == nil || len(f.Certificates) == 0 {
		return nil, nil
	}
	store, names := carriers(cat, r, func(it *feature.Item) bool { return it.CertDir != "" })
	if store == nil {
		return nil, needItem("certificates", f, names)
	}
	if !cleanAbs(store.CertDir) {
		return nil, fmt.Errorf("%w: %s: cert_dir %q must be a clean absolute path in the image", ErrDesign, store.File, store.CertDir)
	}
	var out []image.File
	for _, cert := range f.Certificates {
		src := cert
		if !filepath.IsAbs(src) {
			src = filepath.Join(filepath.Dir(f.Path), cert)
		}
		if fi, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("%w: certificate %s named in %s: %w", ErrDesign, cert, f.Path, err)
		} else if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: certificate %s named in %s is not a regular file", ErrDesign, cert, f.Path)
		}
		out = append(out, image.File{Src: src, Dst: path.Join(store.CertDir, filepath.Base(src)), Feature: store.ID})
	}
	return out, nil
}

// locales puts the locales the design names (else the carrier's default)
// into the image, through the selected item that has [locales], and returns
// the setting (key, value) that makes the first named locale the device's.
func locales(cat *feature.Catalog, r *resolve.Result, f *resolve.File, o Options) ([]image.File, []string, error) {
	named := f != nil && len(f.Locales) > 0
	it, names := carriers(cat, r, func(it *feature.Item) bool { return it.Locales != nil })
	if it == nil {
		if named {
			return nil, nil, needItem("locales", f, names)
		}
		return nil, nil, nil
	}
	loc := it.Locales
	if loc.Dir == "" || loc.Default == "" || !cleanAbs(loc.Dst) {
		return nil, nil, fmt.Errorf("%w: %s: [locales] needs dir (relative to the manifest), dst (a clean absolute image path) and default", ErrDesign, it.File)
	}
	list := []string{loc.Default}
	if named {
		list = slices.Clone(f.Locales)
	}
	if o.DefaultLocaleOnly {
		list = list[:1]
	}
	paths, err := msgslang.Resolve(filepath.Join(it.Dir, loc.Dir), list)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: locales: %w", ErrDesign, err)
	}
	var out []image.File
	for _, p := range paths {
		out = append(out, image.File{Src: p, Dst: path.Join(loc.Dst, filepath.Base(p)), Feature: it.ID})
	}
	var setting []string
	if named && loc.Setting != "" {
		first, err := msgslang.Canonical(list[0])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: locales: %w", ErrDesign, err)
		}
		setting = []string{loc.Setting, first}
	}
	return out, setting, nil
}

func cleanAbs(p string) bool { return path.IsAbs(p) && path.Clean(p) == p && p != "/" }

// moduleCache maps "./dir" commands (module-relative) to import paths, by
// the module holding the manifest.
type moduleCache map[string]string

func (m moduleCache) importPath(it *feature.Item, cmd string) (string, error) {
	rest, ok := strings.CutPrefix(cmd, "./")
	if !ok {
		return cmd, nil
	}
	root, err := modroot.Find(it.Dir)
	if err != nil {
		return "", fmt.Errorf("%w: %s: command %s is module-relative but %w", ErrDesign, it.File, cmd, err)
	}
	mp, ok := m[root]
	if !ok {
		if mp, err = modroot.Path(root); err != nil {
			return "", err
		}
		m[root] = mp
	}
	return path.Join(mp, rest), nil
}
