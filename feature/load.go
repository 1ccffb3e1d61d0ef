package feature

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	tomlfast "github.com/pelletier/go-toml/v2"
)

// ManifestName is the file name of a catalog item's manifest.
const ManifestName = "feature.toml"

// MaxManifestSize bounds a manifest file; anything larger is refused.
const MaxManifestSize = 256 << 10

// ErrManifest is wrapped by every error about a malformed manifest.
var ErrManifest = errors.New("invalid manifest")

// Catalog is every item found under a root folder.
type Catalog struct {
	// Items are sorted by ID.
	Items []*Item
	byID  map[string]int // index in Items
	// reqs[reqStart[i]:reqStart[i+1]] are Items[i].Requires as indexes,
	// after[afterStart[i]:afterStart[i+1]] its After.
	reqs, reqStart, after, afterStart []int32
}

// RequiresIndex returns Items[i].Requires as indexes into Items, in the
// same order. The slice is shared: do not change it.
func (c *Catalog) RequiresIndex(i int) []int32 { return c.reqs[c.reqStart[i]:c.reqStart[i+1]] }

// AfterIndex returns Items[i].After as indexes into Items, in the same
// order. The slice is shared: do not change it.
func (c *Catalog) AfterIndex(i int) []int32 { return c.after[c.afterStart[i]:c.afterStart[i+1]] }

// Lookup returns the item with the given id.
func (c *Catalog) Lookup(id string) (*Item, bool) {
	i, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	return c.Items[i], true
}

// Index returns the position of the item with the given id in Items (its
// rank in id order), for callers that keep per-item state in slices.
func (c *Catalog) Index(id string) (int, bool) {
	i, ok := c.byID[id]
	return i, ok
}

// BSPs returns the board support packages, sorted by name.
func (c *Catalog) BSPs() []*Item {
	var out []*Item
	for _, it := range c.Items {
		if it.Kind == KindBSP {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].BSP.Name < out[j].BSP.Name })
	return out
}

// BSP returns the board support package with the given short name.
func (c *Catalog) BSP(name string) (*Item, bool) {
	for _, it := range c.Items {
		if it.Kind == KindBSP && it.BSP.Name == name {
			return it, true
		}
	}
	return nil, false
}

// IDs returns every item id, sorted.
func (c *Catalog) IDs() []string {
	ids := make([]string, len(c.Items))
	for i, it := range c.Items {
		ids[i] = it.ID
	}
	return ids
}

// New builds a catalog from items, checking that ids are unique and that
// every reference names an item in the catalog.
func New(items []*Item) (*Catalog, error) {
	c := &Catalog{byID: make(map[string]int, len(items))}
	var errs []error
	// A stable sort keeps duplicates in input order: the first one stays.
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b *Item) int { return strings.Compare(a.ID, b.ID) })
	for i, it := range sorted {
		if i > 0 && it.ID == c.Items[len(c.Items)-1].ID {
			prev := c.Items[len(c.Items)-1]
			errs = append(errs, fmt.Errorf("catalog: duplicate id %s in %s and %s: rename one of them (each SYSGEN name must be unique)", it.ID, prev.File, it.File))
			continue
		}
		c.byID[it.ID] = len(c.Items)
		c.Items = append(c.Items, it)
	}
	// Requires and after are kept as indexes too (one flat array each),
	// so a resolver walks them without a lookup by name.
	c.reqStart = make([]int32, len(c.Items)+1)
	c.afterStart = make([]int32, len(c.Items)+1)
	var ids []string // for suggestions, made on the first unknown name
	ref := func(it *Item, r string) (int32, bool) {
		i, ok := c.byID[r]
		if !ok {
			if ids == nil {
				ids = c.IDs()
			}
			errs = append(errs, fmt.Errorf("catalog: %s: %s names unknown item %s%s", it.File, it.ID, r, Suggest(r, ids)))
		}
		return int32(i), ok
	}
	for n, it := range c.Items {
		for _, r := range it.Requires {
			if i, ok := ref(it, r); ok {
				c.reqs = append(c.reqs, i)
			}
		}
		for _, r := range it.After {
			if i, ok := ref(it, r); ok {
				c.after = append(c.after, i)
			}
		}
		for _, r := range it.Conflicts {
			ref(it, r)
		}
		c.reqStart[n+1] = int32(len(c.reqs))
		c.afterStart[n+1] = int32(len(c.after))
	}
	errs = append(errs, checkSettingOwners(c.Items)...)
	bsps := map[string]*Item{}
	for _, it := range c.Items {
		if it.Kind != KindBSP {
			continue
		}
		if prev, dup := bsps[it.BSP.Name]; dup {
			errs = append(errs, fmt.Errorf("catalog: BSP name %q used by %s and %s: rename one", it.BSP.Name, prev.File, it.File))
		}
		bsps[it.BSP.Name] = it
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Load walks root for feature.toml manifests and loads them all. Hidden
// folders, testdata folders and the output folder "out" are skipped.
// Folders are read and manifests parsed by a few goroutines (reading
// thousands of small files is mostly system calls, which overlap); results
// keep the walk's path order (folder by folder, names sorted), so errors
// and duplicates are reported the same way every run.
func Load(root string) (*Catalog, error) {
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("catalog: walking %s: %w", root, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("catalog: %s is not a folder: pass the project folder with --catalog DIR", root)
	}
	found, err := scan(root)
	if err != nil {
		return nil, fmt.Errorf("catalog: walking %s: %w", root, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("catalog: no %s found under %s: run sysgen from the project folder or pass --catalog DIR", ManifestName, root)
	}
	slices.SortFunc(found, func(a, b loaded) int { return comparePaths(a.path, b.path) })
	items := make([]*Item, len(found))
	var errs []error
	for i, f := range found {
		items[i] = f.item
		if f.err != nil {
			errs = append(errs, f.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(items)
}

// loaded is one manifest found by scan: its item or why it failed.
type loaded struct {
	path string
	item *Item
	err  error
}

// skipDir reports the folders Load does not enter.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "testdata" || name == "out" || name == "node_modules"
}

// comparePaths orders paths as filepath.WalkDir visits them: component by
// component, so "a/x" comes before "a-b/x".
func comparePaths(a, b string) int {
	for {
		ai := strings.IndexByte(a, filepath.Separator)
		bi := strings.IndexByte(b, filepath.Separator)
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0:
			return -1
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}

// scanPortable finds and parses the manifests under root with
// filepath.WalkDir and a few parsing goroutines.
func scanPortable(root string) ([]loaded, error) {
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ManifestName {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]loaded, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(len(paths), 4*runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				it, err := LoadFile(paths[i])
				out[i] = loaded{paths[i], it, err}
			}
		}()
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, nil
}

// LoadFile reads and validates one manifest.
func LoadFile(path string) (*Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("catalog: reading %s: %w", path, err)
	}
	it, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	it.File = path
	it.Dir = filepath.Dir(path)
	return it, nil
}

// Parse decodes one manifest strictly: unknown keys, wrong types and
// missing required fields are errors that name the file and line.
func Parse(name string, data []byte) (*Item, error) {
	if err := CheckTOML(name, data, ManifestLimits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	var it Item
	if decodeFast(data, &it) != nil {
		// Not valid for the fast decoder: the strict one below finds what
		// is wrong and says where.
		it = Item{}
		if err := decodeStrict(name, data, &it); err != nil {
			return nil, err
		}
	}
	if err := it.validate(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w: %v", name, 1, ErrManifest, err)
	}
	return &it, nil
}

// decodeFast decodes a valid manifest in one pass into the typed structs,
// refusing unknown keys; any error sends the caller to decodeStrict, which
// accepts the same documents (FuzzDecodeFast checks that they agree) and
// explains the ones it refuses.
func decodeFast(data []byte, it *Item) error {
	d := tomlfast.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(it); err != nil {
		return err
	}
	// The two decoders type dates and times differently: leave those to
	// the strict one.
	for _, st := range it.Settings {
		if !plainValue(st.Default, 0) {
			return errors.New("feature: setting value for the strict decoder")
		}
	}
	return nil
}

// plainValue reports whether v is a string, integer, float, bool or an
// array of them, as both decoders give it.
func plainValue(v any, depth int) bool {
	switch v := v.(type) {
	case nil, string, int64, float64, bool:
		return true
	case []any:
		if depth > ManifestLimits.Nesting {
			return false
		}
		for _, e := range v {
			if !plainValue(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// decodeStrict decodes with the metadata walk that names each unknown key
// and its line.
func decodeStrict(name string, data []byte, it *Item) error {
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(it)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: %w: %s", name, pe.Position.Line, ErrManifest, pe.Message)
		}
		hint := ""
		if strings.Contains(err.Error(), "feature.Setting") {
			hint = ` (declare each setting as a table: [settings."a.b"] with type, default and meaning)`
		}
		return fmt.Errorf("%s: %w: %v%s", name, ErrManifest, err, hint)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var errs []error
		for _, k := range und {
			errs = append(errs, fmt.Errorf("%s:%d: %w: unknown key %q (check the spelling; known keys are listed in feature/item.go)", name, KeyLine(data, k), ErrManifest, k.String()))
		}
		return errors.Join(errs...)
	}
	return nil
}

var (
	idRE      = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	capRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}(:[a-z0-9-]{1,31})?$`)
	portRE    = regexp.MustCompile(`^([0-9]{1,5}(-[0-9]{1,5})?|dynamic)$`)
	bspNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func (it *Item) validate() error {
	if it.ID == "" {
		return errors.New(`missing "id" (the SYSGEN name, e.g. id = "SYSGEN_MESSENGER")`)
	}
	if !idRE.MatchString(it.ID) {
		return fmt.Errorf("id %q: use upper-case letters, digits and underscores, like SYSGEN_MESSENGER", it.ID)
	}
	if strings.TrimSpace(it.Title) == "" {
		return fmt.Errorf("%s: missing \"title\"", it.ID)
	}
	if it.License == "" {
		return fmt.Errorf("%s: missing \"license\" (an SPDX expression, e.g. \"BSD-3-Clause\")", it.ID)
	}
	switch it.NameSource {
	case "ce5", "chosen":
	default:
		return fmt.Errorf("%s: name_source = %q: use \"ce5\" (name from the CE 5.0 documentation) or \"chosen\"", it.ID, it.NameSource)
	}
	switch it.Kind {
	case "":
		it.Kind = KindFeature
	case KindFeature, KindDriver:
	case KindBSP:
		if it.BSP == nil {
			return fmt.Errorf("%s: kind = \"bsp\" needs a [bsp] table", it.ID)
		}
		if err := it.BSP.validate(); err != nil {
			return fmt.Errorf("%s: %w", it.ID, err)
		}
	default:
		return fmt.Errorf("%s: kind = %q: use feature, driver or bsp", it.ID, it.Kind)
	}
	if err := it.validateSettings(); err != nil {
		return err
	}
	if it.Kind != KindBSP && it.BSP != nil {
		return fmt.Errorf("%s: [bsp] table only allowed with kind = \"bsp\"", it.ID)
	}
	for _, list := range [][]string{it.Requires, it.After, it.Conflicts} {
		for _, r := range list {
			if !idRE.MatchString(r) {
				return fmt.Errorf("%s: reference %q is not an item id", it.ID, r)
			}
			if r == it.ID {
				return fmt.Errorf("%s: refers to itself", it.ID)
			}
		}
	}
	for _, list := range [][]string{it.Provides, it.Needs, it.Hardware} {
		for _, c := range list {
			if !capRE.MatchString(c) {
				return fmt.Errorf("%s: capability or hardware name %q: use lower-case words like \"audio\" or \"audio:pci\"", it.ID, c)
			}
		}
	}
	for i, p := range it.Ports {
		if err := p.validate(); err != nil {
			return fmt.Errorf("%s: ports[%d]: %w", it.ID, i, err)
		}
	}
	for i, f := range it.Files {
		if f.Src == "" || !strings.HasPrefix(f.Dst, "/") {
			return fmt.Errorf("%s: files[%d]: need src (relative to the manifest) and an absolute dst", it.ID, i)
		}
		if filepath.IsAbs(f.Src) || strings.Contains(f.Src, "..") {
			return fmt.Errorf("%s: files[%d]: src %q must stay inside the item's folder", it.ID, i, f.Src)
		}
	}
	for i, c := range it.Commands {
		if !strings.HasPrefix(c, "./") && !strings.Contains(c, ".") {
			return fmt.Errorf("%s: commands[%d] = %q: use a module-relative path like \"./msmsgs\" or a full import path", it.ID, i, c)
		}
	}
	for i, s := range it.Services {
		if s.Name == "" {
			return fmt.Errorf("%s: services[%d]: missing name", it.ID, i)
		}
	}
	return nil
}

func (p Port) validate() error {
	switch p.Proto {
	case "tcp", "udp":
	default:
		return fmt.Errorf("proto %q: use tcp or udp", p.Proto)
	}
	if !portRE.MatchString(p.Ports) {
		return fmt.Errorf("ports %q: use a port (\"1863\"), a range (\"6891-6900\") or \"dynamic\"", p.Ports)
	}
	if lo, hi, ok := p.Range(); ok && (lo < 1 || hi > 65535 || lo > hi) {
		return fmt.Errorf("ports %q: out of range 1-65535 or reversed", p.Ports)
	}
	switch p.Direction {
	case "in", "out", "in/out":
	default:
		return fmt.Errorf("direction %q: use in, out or in/out", p.Direction)
	}
	if p.Purpose == "" {
		return errors.New("missing purpose (the firewall admin reads it)")
	}
	return nil
}

func (b *BSP) validate() error {
	if !bspNameRE.MatchString(b.Name) {
		return fmt.Errorf("bsp.name %q: use lower-case letters, digits, - and _", b.Name)
	}
	switch b.Arch {
	case "amd64", "arm64":
	default:
		return fmt.Errorf("bsp.arch %q: use amd64 or arm64", b.Arch)
	}
	k := b.Kernel
	if k.Package == "" || k.Version == "" || k.Image == "" || k.Release == "" {
		return errors.New("bsp.kernel needs package, version, image and release")
	}
	if !sha256RE.MatchString(k.SHA256) {
		return errors.New("bsp.kernel.sha256 must be the .deb's lower-case hex sha256")
	}
	if len(b.QEMU) == 0 {
		return errors.New("bsp.qemu: missing the QEMU argv that emulates the board")
	}
	if b.BudgetBytes <= 0 {
		return errors.New("bsp.budget_bytes must be > 0")
	}
	for i, h := range b.Hardware {
		if !capRE.MatchString(h.Kind) || h.Bus == "" {
			return fmt.Errorf("bsp.hardware[%d]: need kind and bus", i)
		}
	}
	return nil
}

// checkSettingOwners reports settings declared by two items, and BSP
// overrides of settings nobody declares or with a value of the wrong type.
func checkSettingOwners(items []*Item) []error {
	var errs []error
	owner := map[string]*Item{}
	for _, it := range items {
		for k, s := range it.Settings {
			if s.Type == "" {
				continue
			}
			if prev, dup := owner[k]; dup {
				errs = append(errs, fmt.Errorf("catalog: setting %q is declared by %s (%s) and %s (%s): one item owns each setting; a BSP may override its default", k, prev.ID, prev.File, it.ID, it.File))
				continue
			}
			owner[k] = it
		}
	}
	known := slices.Sorted(maps.Keys(owner))
	for _, it := range items {
		for _, k := range slices.Sorted(maps.Keys(it.Settings)) {
			s := it.Settings[k]
			if s.Type != "" {
				continue
			}
			o, ok := owner[k]
			if !ok {
				errs = append(errs, fmt.Errorf("catalog: %s: %s overrides setting %q, which no item declares%s", it.File, it.ID, k, Suggest(k, known)))
				continue
			}
			v, err := o.Settings[k].Type.Normalize(s.Default)
			if err != nil {
				errs = append(errs, fmt.Errorf("catalog: %s: %s overrides setting %q (declared by %s): %w", it.File, it.ID, k, o.ID, err))
				continue
			}
			s.Default = v
			it.Settings[k] = s
		}
	}
	return errs
}

// KeyLine returns the line of a key in a TOML document (1 when not found),
// for error messages; it tracks table headers so that "a.b" is found under [a].
func KeyLine(data []byte, key []string) int {
	if len(key) == 0 {
		return 1
	}
	want := key[len(key)-1]
	table := strings.Join(key[:len(key)-1], ".")
	cur := ""
	for i, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "[") {
			h := strings.Trim(s, "[] \t")
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.TrimSpace(strings.Trim(h[:j], "[] \t"))
			}
			cur = h
			if cur == strings.Join(key, ".") {
				return i + 1
			}
			continue
		}
		k, _, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		if (cur == table && k == want) || (cur == "" && k == strings.Join(key, ".")) {
			return i + 1
		}
	}
	return 1
}
