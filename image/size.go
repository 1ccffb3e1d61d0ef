package image

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// textByPackage returns the machine code bytes of each Go package in a Go
// ELF binary, from the Go symbol table (.gopclntab: every function's name,
// start and end). The image's binary is stripped (-s -w), which removes the
// ELF .symtab but keeps this table: the runtime needs it.
func textByPackage(bin []byte) (map[string]int64, int64, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return nil, 0, fmt.Errorf("image: size report: the busybox binary is not ELF: %w", err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, 0, fmt.Errorf("image: size report: the busybox binary has no .gopclntab or .text section: not a Go binary")
	}
	b, err := pcln.Data()
	if err != nil {
		return nil, 0, fmt.Errorf("image: size report: read .gopclntab: %w", err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(b, text.Addr))
	if err != nil {
		return nil, 0, fmt.Errorf("image: size report: Go symbol table: %w", err)
	}
	out := map[string]int64{}
	var total int64
	for _, fn := range tab.Funcs {
		if fn.End <= fn.Entry {
			continue
		}
		n := int64(fn.End - fn.Entry)
		out[fn.PackageName()] += n
		total += n
	}
	return out, total, nil
}

// goShares splits the busybox binary by feature: each package's code
// (textByPackage) goes to the share packageShares gave it; packages go list
// did not name (compiler-made code such as type equality functions, whose
// symbols have no package) count as "go std".
func goShares(bin []byte, pkgShare map[string]string, binBytes, binCompressed int64) ([]GoShare, error) {
	text, total, err := textByPackage(bin)
	if err != nil {
		return nil, err
	}
	by := map[string]*GoShare{}
	for pkg, n := range text {
		share, ok := pkgShare[pkg]
		if !ok {
			share = shareStd
			if i := strings.IndexByte(pkg, '/'); i > 0 && strings.Contains(pkg[:i], ".") {
				share = shareShared
			}
		}
		g := by[share]
		if g == nil {
			g = &GoShare{Feature: share}
			by[share] = g
		}
		g.Packages++
		g.Text += n
	}
	var out []GoShare
	for _, g := range by {
		if total > 0 {
			g.Bytes = binBytes * g.Text / total
			g.Compressed = binCompressed * g.Text / total
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Text != out[j].Text {
			return out[i].Text > out[j].Text
		}
		return out[i].Feature < out[j].Feature
	})
	return out, nil
}

// Size is the size report of one image, written to size.json.
type Size struct {
	BSP string `json:"bsp"`
	// Total is kernel plus compressed initramfs: what the budget limits.
	Total int64 `json:"total"`
	// Budget is the BSP's budget (0: none).
	Budget int64 `json:"budget"`
	// Kernel is the kernel file size.
	Kernel int64 `json:"kernel"`
	// Initramfs is the compressed initramfs size; CPIO the uncompressed.
	Initramfs   int64  `json:"initramfs"`
	CPIO        int64  `json:"cpio"`
	Compression string `json:"compression"`
	// Features is the size per feature, biggest (compressed) first.
	Features []FeatureSize `json:"features"`
	// Modules is the size per kernel module, biggest first.
	Modules []ModuleSize `json:"modules"`
	// Go splits the busybox binary by feature from its symbol table (see
	// GoShare).
	Go []GoShare `json:"go"`
}

// FeatureSize is what one feature adds to the initramfs.
type FeatureSize struct {
	Feature string `json:"feature"`
	Files   int    `json:"files"`
	// Bytes is the uncompressed size; Compressed its estimated share of
	// the compressed initramfs.
	Bytes      int64 `json:"bytes"`
	Compressed int64 `json:"compressed"`
}

// ModuleSize is what one kernel module adds.
type ModuleSize struct {
	Module     string `json:"module"`
	Feature    string `json:"feature"`
	Bytes      int64  `json:"bytes"`
	Compressed int64  `json:"compressed"`
}

func sizeFromManifest(m *Manifest) *Size {
	s := &Size{
		BSP: m.BSP, Budget: m.Budget, Kernel: m.Kernel.Size, Initramfs: m.InitramfsSize,
		CPIO: m.CPIOSize, Compression: m.Compression, Total: m.Kernel.Size + m.InitramfsSize,
		Go: m.GoShares,
	}
	feat := map[string]*FeatureSize{}
	for _, f := range m.Files {
		fs := feat[f.Feature]
		if fs == nil {
			fs = &FeatureSize{Feature: f.Feature}
			feat[f.Feature] = fs
		}
		if f.Type == "file" {
			fs.Files++
		}
		fs.Bytes += f.Size
		fs.Compressed += f.Compressed
		if f.Module != "" {
			s.Modules = append(s.Modules, ModuleSize{Module: f.Module, Feature: f.Feature, Bytes: f.Size, Compressed: f.Compressed})
		}
	}
	for _, fs := range feat {
		s.Features = append(s.Features, *fs)
	}
	sort.Slice(s.Features, func(i, j int) bool {
		a, b := s.Features[i], s.Features[j]
		if a.Compressed != b.Compressed {
			return a.Compressed > b.Compressed
		}
		return a.Feature < b.Feature
	})
	sort.Slice(s.Modules, func(i, j int) bool {
		a, b := s.Modules[i], s.Modules[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		return a.Module < b.Module
	})
	return s
}

// SizeReport reads the size report of a built image folder.
func SizeReport(dir string) (*Size, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return sizeFromManifest(m), nil
}

// WriteText prints the report as a table.
func (s *Size) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s: total %s = kernel %s + initramfs %s (%s, cpio %s)", s.BSP, human(s.Total), human(s.Kernel), human(s.Initramfs), s.Compression, human(s.CPIO))
	if s.Budget > 0 {
		fmt.Fprintf(tw, ", budget %s (%.0f%% used)", human(s.Budget), 100*float64(s.Total)/float64(s.Budget))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "compressed\tbytes\tfiles\t\tfeature")
	for _, f := range s.Features {
		fmt.Fprintf(tw, "%s\t%s\t%d\t\t%s\n", human(f.Compressed), human(f.Bytes), f.Files, f.Feature)
	}
	if len(s.Go) > 0 {
		fmt.Fprintln(tw, "compressed\tbytes\tcode\tpackages\t\tGo binary by feature (code from its symbol table, the rest in proportion)")
		for _, g := range s.Go {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t\t%s\n", human(g.Compressed), human(g.Bytes), human(g.Text), g.Packages, g.Feature)
		}
	}
	if len(s.Modules) > 0 {
		fmt.Fprintln(tw, "compressed\tbytes\t\t\tkernel module (feature)")
		for _, m := range s.Modules {
			fmt.Fprintf(tw, "%s\t%s\t\t\t%s (%s)\n", human(m.Compressed), human(m.Bytes), m.Module, m.Feature)
		}
	}
	return tw.Flush()
}

// Diff is what changed between two images.
type Diff struct {
	A, B *Size
	// Total is B's total minus A's.
	Total int64 `json:"total"`
	// Features lists per-feature changes, biggest growth first.
	Features []FeatureDiff `json:"features"`
	// Files lists changed, added and removed files, biggest growth first.
	Files []FileDiff `json:"files"`
}

// FeatureDiff is one feature's change between two images.
type FeatureDiff struct {
	Feature        string `json:"feature"`
	A, B           int64  // compressed
	Delta          int64  `json:"delta"`
	BytesA, BytesB int64
	BytesDelta     int64 `json:"bytes_delta"`
}

// FileDiff is one file's change between two images.
type FileDiff struct {
	Path    string `json:"path"`
	Feature string `json:"feature"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	A, B   int64
	Delta  int64 `json:"delta"`
}

// SizeDiff compares two built image folders: what grew from a to b.
func SizeDiff(a, b string) (*Diff, error) {
	ma, err := ReadManifest(a)
	if err != nil {
		return nil, err
	}
	mb, err := ReadManifest(b)
	if err != nil {
		return nil, err
	}
	d := &Diff{A: sizeFromManifest(ma), B: sizeFromManifest(mb)}
	d.Total = d.B.Total - d.A.Total
	fa := map[string]FeatureSize{}
	for _, f := range d.A.Features {
		fa[f.Feature] = f
	}
	fb := map[string]FeatureSize{}
	for _, f := range d.B.Features {
		fb[f.Feature] = f
	}
	names := map[string]bool{}
	for n := range fa {
		names[n] = true
	}
	for n := range fb {
		names[n] = true
	}
	for n := range names {
		x, y := fa[n], fb[n]
		if x.Compressed == y.Compressed && x.Bytes == y.Bytes {
			continue
		}
		d.Features = append(d.Features, FeatureDiff{Feature: n, A: x.Compressed, B: y.Compressed, Delta: y.Compressed - x.Compressed,
			BytesA: x.Bytes, BytesB: y.Bytes, BytesDelta: y.Bytes - x.Bytes})
	}
	sort.Slice(d.Features, func(i, j int) bool {
		if d.Features[i].BytesDelta != d.Features[j].BytesDelta {
			return d.Features[i].BytesDelta > d.Features[j].BytesDelta
		}
		return d.Features[i].Feature < d.Features[j].Feature
	})
	files := map[string][2]*FileEntry{}
	for i := range ma.Files {
		f := &ma.Files[i]
		files[f.Path] = [2]*FileEntry{f, nil}
	}
	for i := range mb.Files {
		f := &mb.Files[i]
		p := files[f.Path]
		p[1] = f
		files[f.Path] = p
	}
	for p, ab := range files {
		x, y := ab[0], ab[1]
		switch {
		case x == nil:
			d.Files = append(d.Files, FileDiff{Path: p, Feature: y.Feature, Change: "added", B: y.Size, Delta: y.Size})
		case y == nil:
			d.Files = append(d.Files, FileDiff{Path: p, Feature: x.Feature, Change: "removed", A: x.Size, Delta: -x.Size})
		case x.SHA256 != y.SHA256 || x.Size != y.Size || x.Target != y.Target:
			d.Files = append(d.Files, FileDiff{Path: p, Feature: y.Feature, Change: "changed", A: x.Size, B: y.Size, Delta: y.Size - x.Size})
		}
	}
	sort.Slice(d.Files, func(i, j int) bool {
		if d.Files[i].Delta != d.Files[j].Delta {
			return d.Files[i].Delta > d.Files[j].Delta
		}
		return d.Files[i].Path < d.Files[j].Path
	})
	return d, nil
}

// WriteText prints the diff as a table.
func (d *Diff) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "total %s -> %s (%+d bytes); initramfs %s -> %s\n", human(d.A.Total), human(d.B.Total), d.Total, human(d.A.Initramfs), human(d.B.Initramfs))
	if len(d.Features) > 0 {
		fmt.Fprintln(tw, "bytes delta\tcompressed delta\t\tfeature")
		for _, f := range d.Features {
			fmt.Fprintf(tw, "%+d\t%+d\t\t%s\n", f.BytesDelta, f.Delta, f.Feature)
		}
	}
	if len(d.Files) > 0 {
		fmt.Fprintln(tw, "bytes delta\tchange\t\tfile (feature)")
		for _, f := range d.Files {
			fmt.Fprintf(tw, "%+d\t%s\t\t%s (%s)\n", f.Delta, f.Change, f.Path, f.Feature)
		}
	}
	return tw.Flush()
}
