package design

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/modroot"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// TestCatalogHonesty walks the whole real catalog and shows, for every item,
// where the image implements it, from what the image is built of: the
// packages `go list -deps` finds for the image's Go commands under the
// image's build tags and GOARCH (exactly what image.Build compiles, from
// Spec.GoBuild), the Go code the item's own sysgen_<id> tag links in, its
// files, its kernel modules (looked up in the BSP's real kernel package),
// its services and the places its manifest names in implemented_in.
//
// It fails when an item claims an implementation the image does not carry,
// when an item that is not marked pending has nothing in the image, and when
// an item marked pending has its code linked (the mark is stale). Run with
// -v to see the table.
func TestCatalogHonesty(t *testing.T) {
	h, kernelMissing := checkCatalog(t, nil)
	t.Logf("catalog honesty (item -> where the image implements it):\n%s", h.table())
	for _, it := range h.cat.Items {
		for _, p := range h.rows[it.ID].problems {
			t.Errorf("%s: %s", it.ID, p)
		}
	}
	if kernelMissing != "" {
		testenv.Missing(t, "kernel modules not checked: %s", kernelMissing)
	}
}

// TestCatalogHonestyCatchesClaims changes manifests in memory and checks
// that the honesty check finds each false claim.
func TestCatalogHonestyCatchesClaims(t *testing.T) {
	h, kernelMissing := checkCatalog(t, func(cat *feature.Catalog) {
		edit := func(id string, f func(*feature.Item)) {
			it, ok := cat.Lookup(id)
			if !ok {
				t.Fatalf("catalog has no %s", id)
			}
			f(it)
		}
		// A library named as the implementation, but linked by nothing.
		edit("SYSGEN_RTC", func(it *feature.Item) { it.Pending = ""; it.ImplementedIn = []string{"feature/rtc"} })
		// An item with no code and no pending mark: TCP/IP without the
		// implemented_in that names its code (no item stays pending long).
		edit("SYSGEN_TCPIP", func(it *feature.Item) { it.ImplementedIn = nil })
		// A pending mark on an item whose code is linked.
		edit("SYSGEN_ETHERNET", func(it *feature.Item) { it.Pending = "stale" })
		// A command that is not there, and a folder that is no package.
		edit("SYSGEN_STRSAFE", func(it *feature.Item) {
			it.Commands = []string{"./no/such/command"}
			it.ImplementedIn = []string{"feature/coreos"}
		})
		// An item no board can carry, without its pending mark.
		edit("SYSGEN_AUDIO_SGTL5000", func(it *feature.Item) { it.Pending = "" })
		// A kernel module the kernel does not have.
		edit("SYSGEN_STATEFS", func(it *feature.Item) { it.KernelModules = append(it.KernelModules, "no_such_module") })
	})
	want := map[string]string{
		"SYSGEN_RTC":      "implemented_in feature/rtc is not linked into the image",
		"SYSGEN_TCPIP":    "nothing in the image implements it",
		"SYSGEN_ETHERNET": "marked pending, but its code is in the image",
		"SYSGEN_STRSAFE":  "implemented_in feature/coreos: no Go package there",
		"SYSGEN_STATEFS":  "kernel module no_such_module is not in",
		// Its code links when its tag is forced on, but no image holds it.
		"SYSGEN_AUDIO_SGTL5000": "no BSP can carry it, so no image holds it",
	}
	if kernelMissing != "" {
		delete(want, "SYSGEN_STATEFS")
		defer testenv.Missing(t, "kernel module claims not checked: %s", kernelMissing)
	}
	for id, want := range want {
		got := strings.Join(h.rows[id].problems, "\n")
		if !strings.Contains(got, want) {
			t.Errorf("%s problems = %q, want one with %q", id, got, want)
		}
	}
	if got := strings.Join(h.rows["SYSGEN_STRSAFE"].problems, "\n"); !strings.Contains(got, "command ./no/such/command") {
		t.Errorf("SYSGEN_STRSAFE problems = %q, want the missing command", got)
	}
	for _, id := range []string{"SYSGEN_MESSENGER", "SYSGEN_TIMESVC", "SYSGEN_COREOS"} {
		if p := h.rows[id].problems; len(p) > 0 {
			t.Errorf("%s (unchanged) problems = %q, want none", id, p)
		}
	}
}

// checkCatalog loads the real catalog, lets edit change it in memory, and
// checks every item on every BSP; it returns why the kernel could not be
// fetched, if so.
func checkCatalog(t *testing.T, edit func(*feature.Catalog)) (*honesty, string) {
	testenv.Tool(t, "go", "install Go from https://go.dev/dl")
	root, err := filepath.Abs(catalogRoot)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := feature.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cat)
	}
	modPath, err := modroot.Path(root)
	if err != nil {
		t.Fatal(err)
	}
	h := &honesty{t: t, root: root, modPath: modPath, cat: cat, rows: map[string]*row{}, tagged: taggedFiles(t, root)}
	for _, it := range cat.Items {
		h.rows[it.ID] = &row{item: it}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kernelMissing := ""
	for _, bsp := range cat.BSPs() {
		if msg := h.checkBSP(ctx, bsp); msg != "" {
			kernelMissing = msg
		}
	}
	h.judge()
	return h, kernelMissing
}

type honesty struct {
	t       *testing.T
	root    string
	modPath string
	cat     *feature.Catalog
	rows    map[string]*row
	// tagged maps each build tag to the module's files whose //go:build
	// line names it.
	tagged map[string][]string
}

// row is what was found for one item, over every BSP design holding it.
type row struct {
	item     *feature.Item
	where    []string // evidence, deduplicated, in order found
	code     bool     // some of the evidence is linked Go code of the item
	pkgs     []string // module packages claimed as the item's code, per BSP design
	problems []string
	notes    []string
	placed   bool // in the design of some BSP
}

func (r *row) add(s string, code bool) {
	if !slices.Contains(r.where, s) {
		r.where = append(r.where, s)
	}
	r.code = r.code || code
}

func (r *row) problem(format string, a ...any) {
	p := fmt.Sprintf(format, a...)
	if !slices.Contains(r.problems, p) {
		r.problems = append(r.problems, p)
	}
}

func (r *row) note(s string) {
	if !slices.Contains(r.notes, s) {
		r.notes = append(r.notes, s)
	}
}

// checkBSP builds the design of every item the board can carry, and checks
// each item in it; it returns why the kernel could not be fetched, if so.
func (h *honesty) checkBSP(ctx context.Context, bsp *feature.Item) string {
	t := h.t
	var set []string
	for _, it := range h.cat.Items {
		if it.Kind == feature.KindBSP {
			continue
		}
		carried := true
		for _, hw := range it.Hardware {
			carried = carried && bsp.BSP.HasHardware(hw)
		}
		if carried {
			set = append(set, it.ID)
		}
	}
	r, err := resolve.Resolve(h.cat, resolve.Design{BSP: bsp.BSP.Name, Set: set})
	if err != nil {
		t.Fatalf("design of every item BSP %s can carry: %v", bsp.BSP.Name, err)
	}
	spec, err := Spec(h.cat, r, nil, Options{})
	if err != nil {
		t.Fatalf("spec of every item on %s: %v", bsp.BSP.Name, err)
	}
	pkgs, tags := spec.GoBuild()
	on := h.goList(ctx, spec.GOARCH, tags, pkgs)

	var kernelMods map[string]bool
	missing := ""
	if k, err := fetchKernel(ctx, spec); err != nil {
		missing = err.Error()
	} else if kernelMods, err = moduleNames(k.ModulesDir()); err != nil {
		t.Fatal(err)
	}

	cmdByBase := map[string]string{}
	for _, p := range pkgs {
		cmdByBase[path.Base(p)] = p
	}
	for _, sel := range r.Items {
		it := sel.Item
		row := h.rows[it.ID]
		row.placed = true
		h.checkCommands(row, it, on)
		h.checkOwnAndNamed(row, it, on)
		h.checkTag(ctx, row, it, spec.GOARCH, tags, pkgs, on)
		for _, f := range spec.Files {
			if f.Feature != it.ID {
				continue
			}
			if _, err := os.Stat(f.Src); err != nil {
				row.problem("file %s: %v", f.Dst, err)
				continue
			}
			row.add("file "+f.Dst, false)
		}
		for _, m := range it.KernelModules {
			switch {
			case kernelMods == nil:
				row.add("kernel module "+m+" (not checked: no kernel)", false)
			case kernelMods[normMod(m)]:
				row.add("kernel module "+m, false)
			default:
				row.problem("kernel module %s is not in %s %s", m, spec.Kernel.Name, spec.Kernel.Version)
			}
		}
		for _, sv := range it.Services {
			if p, ok := cmdByBase[sv.Name]; ok {
				row.add(fmt.Sprintf("service %s (command %s)", sv.Name, h.short(p)), false)
			} else {
				row.problem("service %s is no command of the image", sv.Name)
			}
		}
		if it.SettingsFile && spec.SettingsFeature == it.ID {
			row.add("file "+image.SettingsPath, false)
		}
		if it.Kind == feature.KindBSP && kernelMods != nil {
			row.add(fmt.Sprintf("kernel %s %s (sha256 checked) and QEMU argv", spec.Kernel.Name, spec.Kernel.Version), false)
		}
	}
	// Items this board cannot carry: probe what their tag would link into
	// the same image, so that their claims are checked even with no board
	// to run them. What the probe finds is no image's content: it becomes a
	// note, never evidence; only the claims that fail carry over.
	for _, it := range h.cat.Items {
		if it.Kind == feature.KindBSP || slices.Contains(set, it.ID) {
			continue
		}
		h.rows[it.ID].note(fmt.Sprintf("%s lacks its hardware %v", bsp.BSP.Name, it.Hardware))
		row := &row{item: it}
		probe := append(slices.Clone(tags), h.closureTags(it)...)
		sort.Strings(probe)
		probe = slices.Compact(probe)
		cmds := slices.Clone(pkgs)
		for _, c := range it.Commands {
			ip, err := (moduleCache{}).importPath(it, c)
			if err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, ip)
		}
		withIt := h.goList(ctx, spec.GOARCH, probe, cmds)
		h.checkCommands(row, it, withIt)
		h.checkOwnAndNamed(row, it, withIt)
		h.tagDiff(row, it, withIt, on)
		real := h.rows[it.ID]
		for _, p := range row.problems {
			real.problem("%s", p)
		}
		if len(row.where) > 0 {
			real.note(fmt.Sprintf("with its tag forced on %s: %s", bsp.BSP.Name, strings.Join(row.where, "; ")))
		}
	}
	if !testing.Short() {
		h.checkSymbols(ctx, spec, r, pkgs, tags, on)
	}
	return missing
}

// checkSymbols builds the image's own Go commands (those of this module)
// with the image's tags and GOARCH, and checks that every package claimed
// as an item's code has functions in the binaries: linked, not only
// imported and then dropped by the linker.
func (h *honesty) checkSymbols(ctx context.Context, spec image.Spec, r *resolve.Result, pkgs, tags []string, on map[string]*goPkg) {
	t := h.t
	dir := t.TempDir()
	var syms []string
	built := 0
	for i, p := range pkgs {
		if !strings.HasPrefix(p, h.modPath+"/") || on[p] == nil || on[p].Error != nil {
			continue // not this module's, or already reported as not building
		}
		out := filepath.Join(dir, fmt.Sprintf("cmd%d", i))
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", strings.Join(tags, ","), "-o", out, p)
		cmd.Dir = h.root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+spec.GOARCH, "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -tags %s %s for %s: %v\n%s", strings.Join(tags, ","), p, spec.GOARCH, err, b)
		}
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := f.Symbols()
		f.Close()
		if err != nil {
			t.Fatalf("%s: symbols: %v", p, err)
		}
		for _, s := range ss {
			syms = append(syms, s.Name)
		}
		built++
	}
	sort.Strings(syms)
	has := func(pkg string) bool {
		i := sort.SearchStrings(syms, pkg+".")
		return i < len(syms) && strings.HasPrefix(syms[i], pkg+".")
	}
	for _, sel := range r.Items {
		row := h.rows[sel.Item.ID]
		for _, p := range row.pkgs {
			// A command's own package is main in its binary.
			if !slices.Contains(pkgs, p) && !has(p) {
				row.problem("package %s is imported but has no code in the %s binaries (the linker dropped it)", h.short(p), spec.GOARCH)
			}
		}
		row.pkgs = nil
	}
	t.Logf("%s: claimed packages checked against %d symbols of the %d module commands built for %s with -tags %s", spec.BSP, len(syms), built, spec.GOARCH, strings.Join(tags, ","))
}

func (h *honesty) checkCommands(row *row, it *feature.Item, deps map[string]*goPkg) {
	for _, c := range it.Commands {
		ip, err := (moduleCache{}).importPath(it, c)
		if err != nil {
			row.problem("command %s: %v", c, err)
			continue
		}
		p, ok := deps[ip]
		switch {
		case !ok:
			row.problem("command %s is not built into the image", c)
		case p.Error != nil:
			row.problem("command %s does not build: %s", c, p.Error.Err)
		default:
			row.add("command "+h.short(ip), true)
		}
	}
}

// checkOwnAndNamed checks the item's own folder's Go package and the
// folders its implemented_in names.
func (h *honesty) checkOwnAndNamed(row *row, it *feature.Item, deps map[string]*goPkg) {
	own := h.importPath(it.Dir)
	if hasGo(it.Dir) {
		if _, ok := deps[own]; ok {
			row.add("package "+h.short(own)+" (own folder)", true)
			row.pkgs = append(row.pkgs, own)
		} else {
			row.note("its own package " + h.short(own) + " is not linked")
		}
	}
	for _, d := range it.ImplementedIn {
		dir := filepath.Join(h.root, filepath.FromSlash(d))
		if !hasGo(dir) {
			row.problem("implemented_in %s: no Go package there", d)
			continue
		}
		if _, ok := deps[h.importPath(dir)]; !ok {
			row.problem("implemented_in %s is not linked into the image", d)
			continue
		}
		row.add("package "+d+" (implemented_in)", true)
		row.pkgs = append(row.pkgs, h.importPath(dir))
	}
}

// checkTag finds the code the item's own build tag links into the image:
// the image's packages and files that are there with the tag and not
// without it.
func (h *honesty) checkTag(ctx context.Context, row *row, it *feature.Item, goarch string, tags, pkgs []string, on map[string]*goPkg) {
	tag := image.BuildTag(it.ID)
	if len(h.tagged[tag]) == 0 {
		return // no file's build constraint names the tag
	}
	var without []string
	for _, x := range tags {
		if x != tag {
			without = append(without, x)
		}
	}
	row.pkgs = append(row.pkgs, h.tagDiff(row, it, on, h.goList(ctx, goarch, without, pkgs))...)
}

// tagDiff records the module's packages and files in with and not in
// without as linked under the item's tag, and returns those packages.
func (h *honesty) tagDiff(row *row, it *feature.Item, with, without map[string]*goPkg) []string {
	tag := image.BuildTag(it.ID)
	var mine, pkgs []string
	others := 0
	for ip, p := range with {
		if _, ok := without[ip]; ok {
			continue
		}
		if strings.HasPrefix(ip, h.modPath+"/") {
			mine = append(mine, h.short(ip))
			pkgs = append(pkgs, ip)
		} else if !p.Standard {
			others++
		}
	}
	for ip, p := range with {
		q, ok := without[ip]
		if !ok || !strings.HasPrefix(ip, h.modPath+"/") {
			continue
		}
		for _, f := range p.GoFiles {
			if !slices.Contains(q.GoFiles, f) {
				mine = append(mine, h.short(ip)+"/"+f)
			}
		}
	}
	if len(mine) == 0 {
		return nil
	}
	sort.Strings(mine)
	s := "under " + tag + ": " + strings.Join(mine, ", ")
	if others > 0 {
		s += fmt.Sprintf(" (+%d dependency packages)", others)
	}
	row.add(s, true)
	return pkgs
}

// closureTags are the build tags of an item and everything it requires.
func (h *honesty) closureTags(it *feature.Item) []string {
	var tags []string
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		tags = append(tags, image.BuildTag(id))
		if x, ok := h.cat.Lookup(id); ok {
			for _, r := range x.Requires {
				walk(r)
			}
		}
	}
	walk(it.ID)
	return tags
}

// judge decides each item: implemented, honestly pending, or dishonest.
func (h *honesty) judge() {
	for _, it := range h.cat.Items {
		row := h.rows[it.ID]
		if !row.placed {
			row.note("no BSP of the catalog can carry it")
		}
		switch {
		case it.Pending != "" && row.code:
			row.problem("marked pending, but its code is in the image (%s): remove the pending mark from %s", strings.Join(row.where, "; "), h.short(it.File))
		case it.Pending == "" && !row.placed:
			row.problem("no BSP can carry it, so no image holds it: mark it pending until a board has its hardware %v", it.Hardware)
		case it.Pending == "" && len(row.where) == 0:
			row.problem("nothing in the image implements it: add commands, files, kernel_modules, services or implemented_in to %s, or mark it pending = \"what is still to come\"", h.short(it.File))
		}
	}
}

func (h *honesty) table() string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tSTATE\tWHERE IMPLEMENTED")
	for _, it := range h.cat.Items {
		row := h.rows[it.ID]
		state := "ok"
		switch {
		case len(row.problems) > 0:
			state = "FAIL"
		case it.Pending != "":
			state = "pending"
		}
		where := strings.Join(row.where, "; ")
		if it.Pending != "" {
			where = strings.TrimPrefix(where+"; pending: "+it.Pending, "; ")
		}
		if len(row.notes) > 0 && (it.Pending != "" || len(row.problems) > 0) {
			where += " [" + strings.Join(row.notes, "; ") + "]"
		}
		for _, p := range row.problems {
			where += " PROBLEM: " + p
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", it.ID, state, where)
	}
	tw.Flush()
	return b.String()
}

func (h *honesty) importPath(dir string) string {
	rel, err := filepath.Rel(h.root, dir)
	if err != nil || rel == "." {
		return h.modPath
	}
	return h.modPath + "/" + filepath.ToSlash(rel)
}

func (h *honesty) short(s string) string {
	if r, ok := strings.CutPrefix(s, h.modPath+"/"); ok {
		return r
	}
	if r, err := filepath.Rel(h.root, s); err == nil && filepath.IsAbs(s) {
		return filepath.ToSlash(r)
	}
	return s
}

type goPkg struct {
	ImportPath string
	Standard   bool
	GoFiles    []string
	Error      *struct{ Err string }
}

// goList is `go list -deps` of pkgs for linux/goarch under tags, as the
// image's busybox build (CGO off) sees them.
func (h *honesty) goList(ctx context.Context, goarch string, tags, pkgs []string) map[string]*goPkg {
	h.t.Helper()
	args := append([]string{"list", "-e", "-deps", "-json=ImportPath,Standard,GoFiles,Error", "-tags", strings.Join(tags, ",")}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		h.t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	res := map[string]*goPkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			h.t.Fatalf("go list output: %v", err)
		}
		res[p.ImportPath] = &p
	}
	return res
}

// taggedFiles maps each sysgen_ build tag to the module's Go files whose
// //go:build line names it.
func taggedFiles(t *testing.T, root string) map[string][]string {
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 0; sc.Scan() && n < 40; n++ {
			line, ok := strings.CutPrefix(sc.Text(), "//go:build ")
			if !ok {
				continue
			}
			for _, w := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" !()&|", r) }) {
				if strings.HasPrefix(w, "sysgen_") {
					out[w] = append(out[w], p)
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasGo(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

func fetchKernel(ctx context.Context, spec image.Spec) (*image.Kernel, error) {
	cache, err := image.CacheDir()
	if err != nil {
		return nil, err
	}
	arch := spec.Kernel.Arch
	if arch == "" {
		arch = spec.GOARCH
	}
	return image.FetchKernel(ctx, spec.Kernel, arch, cache, nil)
}

func normMod(name string) string { return strings.ReplaceAll(name, "-", "_") }

// moduleNames is the set of module names (with _ for -) under a kernel's
// module folder.
func moduleNames(dir string) (map[string]bool, error) {
	names := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if i := strings.Index(n, ".ko"); i > 0 && !d.IsDir() {
			names[normMod(n[:i])] = true
		}
		return nil
	})
	if len(names) == 0 && err == nil {
		err = fmt.Errorf("no kernel modules under %s", dir)
	}
	return names, err
}
