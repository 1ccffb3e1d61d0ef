// Package resolve turns an OS design (a BSP and the OEM's SYSGEN flags) into
// the closure of catalog items the device needs, in a deterministic build
// order, with the chains that explain why each item is there.
//
// Unlike CE's sysgen batch files, every failure names what to fix: unknown
// items get the nearest name, cycles are printed, conflicts show both chains,
// a capability nobody provides names who needs it.
package resolve

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/oemkit/messenger/feature"
)

// Sentinel errors callers can branch on; every returned error wraps one.
var (
	ErrUnknownItem = errors.New("unknown item")
	ErrCycle       = errors.New("dependency cycle")
	ErrConflict    = errors.New("conflict")
	ErrUnprovided  = errors.New("capability not provided")
	ErrAmbiguous   = errors.New("capability provided by several items")
	ErrHardware    = errors.New("hardware missing on the board")
	ErrCleared     = errors.New("required item is cleared")
	ErrBSP         = errors.New("bad board support package")
	ErrFlagValue   = errors.New("bad flag value")
	ErrNotSelected = errors.New("item not in the design")
	ErrSetting     = errors.New("bad setting")
)

// Design is what the OEM asked for.
type Design struct {
	// BSP is the board support package's short name.
	BSP string
	// Set are the items selected by OEM flags.
	Set []string
	// Cleared are the items explicitly cleared (SYSGEN_X= or false in the
	// design file); a design that needs one of them fails.
	Cleared []string
}

// Result is a resolved design.
type Result struct {
	// BSP is the board support package item.
	BSP *feature.Item
	// Items are the selected items in build order (dependencies first).
	Items []*Selected
	// Catalog is the catalog the design was resolved over.
	Catalog *feature.Catalog

	// sel holds the selected items by catalog index (nil: not selected);
	// added holds them in the order they were added.
	sel   []*Selected
	added []*Selected
	// edges holds every provider<-needer pair already recorded, as catalog
	// indexes.
	edges map[[2]int32]bool
}

// Selected is one item in the resolved design.
type Selected struct {
	Item *feature.Item
	// Root is true when an OEM flag or the BSP selected the item directly.
	Root bool
	// parents are the items that brought this one in, in discovery order;
	// parents[0] is on the shortest chain from a root.
	parents []edge
	// depth is the length of the shortest chain above the item (0 for a
	// root) and root the flag (or BSP) at its top, set when the item is
	// first added, so a chain is never walked to find them.
	depth int
	root  string
	res   *Result
	// idx is the item's index in the catalog (its rank in id order); pos
	// its place in Result.added.
	idx, pos int32
}

type edge struct {
	from *Selected
	// capability is set when the edge is a "needs" edge.
	capability string
}

// Lookup returns the selected item with the given id.
func (r *Result) Lookup(id string) (*Selected, bool) {
	return r.byID(id)
}

func (r *Result) byID(id string) (*Selected, bool) {
	i, ok := r.Catalog.Index(id)
	if !ok || r.sel[i] == nil {
		return nil, false
	}
	return r.sel[i], true
}

// Bounds on the chains kept and printed per item, so that resolving and
// listing a design stays linear in the catalog's size: a 10,000-item chain
// would otherwise print 10,000 chains of up to 10,000 ids.
const (
	// MaxChains is how many chains Why returns per item; Reasons counts all.
	MaxChains = 8
	// MaxChainLen is how many ids a chain from Why holds at most: the flag
	// at its top, a marker "(N more)" for the ids left out, and the last
	// ids down to the item.
	MaxChainLen = 16
)

// Why returns the chains that brought the item into the design: each chain
// is a list of ids from an OEM flag (or the BSP) down to this item. There is
// one chain per direct reason, each following the shortest path above it;
// at most MaxChains chains of at most MaxChainLen ids (see Chains).
func (s *Selected) Why() [][]string { return s.Chains(MaxChains, MaxChainLen) }

// Reasons is the number of direct reasons the item is in the design (the
// chains Why would list without its bound).
func (s *Selected) Reasons() int {
	n := len(s.parents)
	if s.Root {
		n++
	}
	return n
}

// Chains returns up to maxChains chains (all when maxChains <= 0), each cut
// to maxLen ids (not cut when maxLen <= 0): the top id, "(N more)" and the
// last maxLen-2 ids.
func (s *Selected) Chains(maxChains, maxLen int) [][]string {
	var out [][]string
	if s.Root {
		out = append(out, []string{s.Item.ID})
	}
	for _, e := range s.parents {
		if maxChains > 0 && len(out) >= maxChains {
			break
		}
		out = append(out, s.res.chain(e.from, s.Item.ID, maxLen))
	}
	return out
}

// chain returns the shortest chain from a root down to s, then last (if
// not ""), cut to maxLen ids as Chains describes. It walks at most maxLen
// parents.
func (r *Result) chain(s *Selected, last string, maxLen int) []string {
	n := s.depth + 1 // ids from the root to id
	if last != "" {
		n++
	}
	keep := n // ids walked up from the bottom
	cut := maxLen > 0 && n > maxLen && maxLen >= 3
	if cut {
		keep = maxLen - 2
	}
	rev := make([]string, 0, keep)
	if last != "" {
		rev = append(rev, last)
	}
	for cur := s; len(rev) < keep; {
		rev = append(rev, cur.Item.ID)
		if cur.Root || len(cur.parents) == 0 {
			break
		}
		cur = cur.parents[0].from
	}
	out := make([]string, 0, len(rev)+2)
	if cut {
		out = append(out, s.root, fmt.Sprintf("(%d more)", n-len(rev)-1))
	}
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
	}
	return out
}

// chainText is s's shortest chain for error messages, cut to MaxChainLen.
func (r *Result) chainText(s *Selected) string {
	return strings.Join(r.chain(s, "", MaxChainLen), " -> ")
}

// IDs returns the selected ids in build order.
func (r *Result) IDs() []string {
	out := make([]string, len(r.Items))
	for i, s := range r.Items {
		out[i] = s.Item.ID
	}
	return out
}

// Resolve computes the closure of d over the catalog.
func Resolve(cat *feature.Catalog, d Design) (*Result, error) {
	bsp, ok := cat.BSP(d.BSP)
	if !ok {
		var names []string
		for _, b := range cat.BSPs() {
			names = append(names, b.BSP.Name)
		}
		return nil, fmt.Errorf("resolve: %w: no BSP named %q%s; available: %s (pass --bsp NAME or set bsp in osdesign.toml)",
			ErrBSP, d.BSP, feature.Suggest(d.BSP, names), strings.Join(names, ", "))
	}
	cleared := map[string]bool{}
	for _, id := range d.Cleared {
		if _, ok := cat.Lookup(id); !ok {
			return nil, fmt.Errorf("resolve: %w: %s=%s (clearing an item the catalog does not have: check the spelling or run `sysgen list`)", ErrUnknownItem, id, feature.Suggest(id, cat.IDs()))
		}
		cleared[id] = true
	}
	var roots []int
	for _, id := range sortedUnique(d.Set) {
		i, ok := cat.Index(id)
		if !ok {
			return nil, fmt.Errorf("resolve: %w: %s is not in the catalog%s; run `sysgen list` to see the items", ErrUnknownItem, id, feature.Suggest(id, cat.IDs()))
		}
		it := cat.Items[i]
		if it.Kind == feature.KindBSP {
			return nil, fmt.Errorf("resolve: %w: %s is a board support package: select it with --bsp %s, not as a flag", ErrBSP, id, it.BSP.Name)
		}
		if cleared[id] {
			return nil, fmt.Errorf("resolve: %w: %s is both set and cleared; keep one", ErrConflict, id)
		}
		roots = append(roots, i)
	}

	r := &Result{BSP: bsp, Catalog: cat, sel: make([]*Selected, len(cat.Items)), edges: map[[2]int32]bool{}}
	// Selected structs come from one block per resolution, not one
	// allocation each.
	// The same for the first two parents of each item.
	var block []Selected
	var edges []edge
	add := func(idx int, from edge, root bool) {
		s := r.sel[idx]
		if s == nil {
			if len(block) == 0 {
				n := min(max(len(r.added), 64), 1<<16)
				block = make([]Selected, n)
				edges = make([]edge, 2*n)
			}
			s = &block[0]
			block = block[1:]
			it := cat.Items[idx]
			*s = Selected{Item: it, res: r, root: it.ID, idx: int32(idx), pos: int32(len(r.added))}
			if !root {
				s.depth, s.root = from.from.depth+1, from.from.root
			}
			s.parents = edges[:0:2]
			edges = edges[2:]
			r.sel[idx] = s
			r.added = append(r.added, s)
		}
		if root {
			s.Root = true
		} else {
			s.parents = append(s.parents, from)
			if from.capability != "" {
				r.edges[[2]int32{s.idx, from.from.idx}] = true
			}
		}
	}
	index := func(id string) int {
		i, _ := cat.Index(id) // feature.New checked every reference
		return i
	}
	add(index(bsp.ID), edge{}, true)
	for _, i := range roots {
		add(i, edge{}, true)
	}
	providers := providerIndex(cat)
	needers := map[string][]*Selected{} // capability -> needers already satisfied
	for head, fresh := 0, 0; head < len(r.added); {
		// Breadth first over requires, then satisfy capabilities of the
		// whole frontier, so chains are shortest. Each pass looks only at
		// the items added since the last one.
		for ; head < len(r.added); head++ {
			s := r.added[head]
			for _, req := range cat.RequiresIndex(int(s.idx)) {
				add(int(req), edge{from: s}, false)
			}
		}
		batch := r.added[fresh:]
		fresh = len(r.added)
		if err := r.satisfyNeeds(batch, needers, providers, cleared, add); err != nil {
			return nil, err
		}
	}
	if err := r.order(); err != nil {
		return nil, err
	}
	if err := r.check(cleared); err != nil {
		return nil, err
	}
	return r, nil
}

// providerIndex maps each capability to the items providing it, sorted.
func providerIndex(cat *feature.Catalog) map[string][]*feature.Item {
	m := map[string][]*feature.Item{}
	for _, it := range cat.Items {
		for _, c := range it.Provides {
			m[c] = append(m[c], it)
		}
	}
	return m
}

// satisfyNeeds handles the items added since the last pass (batch): a new
// provider of a capability that earlier needers need is ordered before
// them; for every capability a new item needs without a selected provider,
// the one provider the board can run is added. needers records the needers
// handled so far, by capability.
func (r *Result) satisfyNeeds(batch []*Selected, needers map[string][]*Selected, providers map[string][]*feature.Item, cleared map[string]bool, add func(int, edge, bool)) error {
	// Deterministic: visit items sorted by id (catalog index).
	sel := slices.Clone(batch)
	slices.SortFunc(sel, func(a, b *Selected) int { return int(a.idx - b.idx) })
	for _, p := range sel {
		for _, c := range p.Item.Provides {
			for _, n := range needers[c] {
				r.link(p, n, c)
			}
		}
	}
	for _, s := range sel {
		if len(s.Item.Needs) == 0 {
			continue
		}
		id := s.Item.ID
		for _, c := range s.Item.Needs {
			var have []*Selected
			for _, p := range providers[c] {
				if ps, ok := r.byID(p.ID); ok {
					have = append(have, ps)
				}
			}
			needers[c] = append(needers[c], s)
			if len(have) > 0 {
				for _, p := range have {
					r.link(p, s, c)
				}
				continue
			}
			var fit []*feature.Item
			var unfit []string
			for _, p := range providers[c] {
				if cleared[p.ID] {
					unfit = append(unfit, p.ID+" (cleared)")
					continue
				}
				if miss := missingHardware(p, r.BSP); miss != "" {
					unfit = append(unfit, fmt.Sprintf("%s (needs hardware %s)", p.ID, miss))
					continue
				}
				fit = append(fit, p)
			}
			switch len(fit) {
			case 1:
				i, _ := r.Catalog.Index(fit[0].ID)
				add(i, edge{from: s, capability: c}, false)
			case 0:
				msg := fmt.Sprintf("%s needs %q, which nothing on BSP %s provides (chain: %s)",
					id, c, r.BSP.BSP.Name, r.chainText(s))
				if len(unfit) > 0 {
					msg += fmt.Sprintf("; catalog providers that cannot be used here: %s", strings.Join(unfit, ", "))
				} else {
					msg += fmt.Sprintf("; no catalog item provides it: add a driver or feature with provides = [%q]", c)
				}
				msg += fmt.Sprintf("; board hardware: %s. Pick a BSP that has it (--bsp) or drop %s", hardwareList(r.BSP), s.root)
				return fmt.Errorf("resolve: %w: %s", ErrUnprovided, msg)
			default:
				var ids []string
				for _, p := range fit {
					ids = append(ids, p.ID)
				}
				return fmt.Errorf("resolve: %w: %s needs %q and %s all provide it on BSP %s: select one with SYSGEN_<NAME>=1",
					ErrAmbiguous, id, c, strings.Join(ids, ", "), r.BSP.BSP.Name)
			}
		}
	}
	return nil
}

// link records that provider p is in the design for needer n's capability
// c, once per pair.
func (r *Result) link(p, n *Selected, c string) {
	k := [2]int32{p.idx, n.idx}
	if p == n || r.edges[k] {
		return
	}
	r.edges[k] = true
	p.parents = append(p.parents, edge{from: n, capability: c})
}

func missingHardware(it *feature.Item, bsp *feature.Item) string {
	for _, h := range it.Hardware {
		if !bsp.BSP.HasHardware(h) {
			return h
		}
	}
	return ""
}

func hardwareList(bsp *feature.Item) string {
	var hw []string
	for _, h := range bsp.BSP.Hardware {
		hw = append(hw, h.Kind+":"+h.Bus)
	}
	if len(hw) == 0 {
		return "none"
	}
	return strings.Join(hw, ", ")
}

// check verifies hardware, cleared items and conflicts, in build order.
// Chains are built only for the error messages.
func (r *Result) check(cleared map[string]bool) error {
	chain := r.chainText
	var errs []error
	for _, s := range r.Items {
		id := s.Item.ID
		if len(cleared) > 0 && cleared[id] {
			errs = append(errs, fmt.Errorf("resolve: %w: %s is cleared but the design needs it (chain: %s); remove the clear (%s=) or drop %s",
				ErrCleared, id, chain(s), id, s.root))
		}
		if miss := missingHardware(s.Item, r.BSP); miss != "" {
			errs = append(errs, fmt.Errorf("resolve: %w: %s needs hardware %q but BSP %s has only %s (chain: %s); pick another BSP or drop %s",
				ErrHardware, id, miss, r.BSP.BSP.Name, hardwareList(r.BSP), chain(s), s.root))
		}
		for _, c := range s.Item.Conflicts {
			if o, ok := r.byID(c); ok && (id < c || !contains(o.Item.Conflicts, id)) {
				errs = append(errs, fmt.Errorf("resolve: %w: %s conflicts with %s, they cannot be in one design (why %s: %s; why %s: %s); drop one of the flags that bring them in",
					ErrConflict, id, c, id, chain(s), c, chain(o)))
			}
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// order sorts r.Items topologically (requires, after and needs edges;
// dependencies first), ties broken by id, and reports a cycle if any.
// Items are numbered by their place in r.added; the edges are kept in one
// flat array (counted, then filled), so the sort touches no map.
func (r *Result) order() error {
	n := len(r.added)
	indeg := make([]int32, n)
	start := make([]int32, n+1) // out-edges of item i: succ[start[i]:start[i+1]]
	each := func(visit func(before, after int32)) {
		for _, s := range r.added {
			for _, dep := range r.Catalog.RequiresIndex(int(s.idx)) {
				visit(r.sel[dep].pos, s.pos)
			}
			for _, dep := range r.Catalog.AfterIndex(int(s.idx)) {
				if d := r.sel[dep]; d != nil {
					visit(d.pos, s.pos)
				}
			}
			for _, e := range s.parents {
				if e.capability != "" {
					visit(s.pos, e.from.pos) // provider before needer
				}
			}
		}
	}
	each(func(before, after int32) { start[before+1]++; indeg[after]++ })
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	succ := make([]int32, start[n])
	fill := slices.Clone(start[:n])
	each(func(before, after int32) { succ[fill[before]] = after; fill[before]++ })

	// A min-heap of ready items by catalog index (= id order).
	var h idxHeap
	for i, d := range indeg {
		if d == 0 {
			h.push(r.added[i].idx)
		}
	}
	r.Items = make([]*Selected, 0, n)
	for len(h) > 0 {
		s := r.sel[h.pop()]
		r.Items = append(r.Items, s)
		i := s.pos
		for _, next := range succ[start[i]:start[i+1]] {
			indeg[next]--
			if indeg[next] == 0 {
				h.push(r.added[next].idx)
			}
		}
	}
	if len(r.Items) == n {
		return nil
	}
	// The cycle is printed by id, over the items left.
	out := map[string][]string{}
	left := map[string]int{}
	var names []string
	for i, d := range indeg {
		if d > 0 {
			id := r.added[i].Item.ID
			left[id] = int(d)
			names = append(names, id)
			for _, next := range succ[start[i]:start[i+1]] {
				out[id] = append(out[id], r.added[next].Item.ID)
			}
		}
	}
	sort.Strings(names)
	cycle := findCycle(names, out, left)
	// Edges run from a dependency to its dependent; print the cycle in
	// "requires" direction.
	for i, j := 0, len(cycle)-1; i < j; i, j = i+1, j-1 {
		cycle[i], cycle[j] = cycle[j], cycle[i]
	}
	return fmt.Errorf("resolve: %w: %s; break it by removing one of these requires/after entries", ErrCycle, strings.Join(cycle, " -> "))
}

// findCycle walks edges among the unsorted items until a node repeats.
func findCycle(left []string, out map[string][]string, indeg map[string]int) []string {
	if len(left) == 0 {
		return nil
	}
	pos := map[string]int{}
	var path []string
	cur := left[0]
	for {
		if i, ok := pos[cur]; ok {
			return append(path[i:], cur)
		}
		pos[cur] = len(path)
		path = append(path, cur)
		next := ""
		for _, n := range out[cur] {
			if indeg[n] > 0 && (next == "" || n < next) {
				next = n
			}
		}
		if next == "" {
			return path
		}
		cur = next
	}
}

// idxHeap is a min-heap of catalog indexes (so of ids in order).
type idxHeap []int32

func (h *idxHeap) push(v int32) {
	*h = append(*h, v)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *idxHeap) pop() int32 {
	a := *h
	v := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(a) && a[l] < a[m] {
			m = l
		}
		if l+1 < len(a) && a[l+1] < a[m] {
			m = l + 1
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return v
}

func sortedUnique(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}
