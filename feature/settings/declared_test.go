package settings_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/feature/settings"
)

// accessors maps each typed accessor of settings.File to the type it reads.
var accessors = map[string]settings.Type{
	"Int": settings.Int, "Bool": settings.Bool, "Text": settings.String, "Duration": settings.Duration,
	"HostPort": settings.HostPort, "List": settings.Strings, "PortRange": settings.PortRange,
}

// pending are declared settings of items whose device code is still being
// written: the key is read by nothing yet. An entry whose key is read fails
// (remove it); the item must be the key's declarer.
var pending = map[string]string{}

// outsideLoader are settings read by code that does not use the loader
// (none today: every device program reads the settings file through it).
// The key (or the named constant) must appear in that tree's non-test Go
// code.
var outsideLoader = []struct{ prefix, tree, token string }{}

// TestEveryDeclaredSettingIsRead loads the real catalog and reads every
// non-test Go file of the module: each setting an item declares must be read
// through a typed accessor of the declared type (f.Duration("net.x") for a
// duration) with the key as a literal or a constant, or be listed above.
// Every key code reads must be declared.
func TestEveryDeclaredSettingIsRead(t *testing.T) {
	root := filepath.Join("..", "..")
	cat, err := feature.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	declared := cat.DeclaredSettings()
	reads, sources := scanReads(t, root)

	keys := make([]string, 0, len(declared))
	for k := range declared {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it := declared[k]
		want := it.Settings[k].Type
		got := reads[k]
		if owner, ok := pending[k]; ok {
			if owner != it.ID {
				t.Errorf("pending lists %s under %s, but %s declares it", k, owner, it.ID)
			}
			if len(got) > 0 {
				t.Errorf("%s is read now (%s): remove it from the pending list", k, strings.Join(got.where(), ", "))
			}
			continue
		}
		if len(got) == 0 {
			if reader, ok := readOutside(k, sources); ok {
				t.Logf("%s (%s) is read outside the loader in %s", k, it.ID, reader)
				continue
			}
			t.Errorf("%s declares setting %s (%s) but no code reads it: read it with settings.File.%s, or remove the declaration", it.ID, k, want, accessorFor(want))
			continue
		}
		for typ, where := range got {
			if typ != want {
				t.Errorf("%s is declared %s by %s but read as %s at %s", k, want, it.ID, typ, where)
			}
		}
	}
	for k, got := range reads {
		if _, ok := declared[k]; !ok {
			t.Errorf("code reads setting %q (%s) that no item declares: declare it in the owning item's feature.toml [settings]", k, strings.Join(got.where(), ", "))
		}
	}
	if len(reads) == 0 {
		t.Fatal("found no accessor calls at all: the scan is broken")
	}
}

type readSet map[settings.Type]string // type -> first place

func (r readSet) where() []string {
	var out []string
	for _, w := range r {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

func accessorFor(t settings.Type) string {
	for name, typ := range accessors {
		if typ == t {
			return name
		}
	}
	return "?"
}

func readOutside(key string, sources map[string]string) (string, bool) {
	for _, o := range outsideLoader {
		if !strings.HasPrefix(key, o.prefix) {
			continue
		}
		tok := o.token
		if tok == "" {
			tok = strconv.Quote(key)
		}
		for path, src := range sources {
			if strings.HasPrefix(path, o.tree+"/") && strings.Contains(src, tok) {
				return path, true
			}
		}
	}
	return "", false
}

// scanReads parses every non-test Go file under root and returns the keys
// passed to accessors, and the files' text by slash path.
func scanReads(t *testing.T, root string) (map[string]readSet, map[string]string) {
	fset := token.NewFileSet()
	type file struct {
		dir string // slash path of the package folder, relative to root
		f   *ast.File
	}
	var files []file
	consts := map[string]string{} // "dir.Name" -> value
	sources := map[string]string{}
	// Accessor calls can only be on a *settings.File in packages that use
	// the loader (or in it): elsewhere .Text("log.x") is, say, a msgslang
	// catalog lookup. A package counts as a whole: a *settings.File handed
	// to a helper in another file of it needs no import there.
	loaderPkgs := map[string]bool{"feature/settings": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		sources[filepath.ToSlash(rel)] = string(src)
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		files = append(files, file{dir, f})
		if importsLoader(f) {
			loaderPkgs[dir] = true
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							consts[dir+"."+name.Name] = v
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]readSet{}
	for _, fl := range files {
		if !loaderPkgs[fl.dir] {
			continue
		}
		ast.Inspect(fl.f, func(n ast.Node) bool {
			ce, ok := n.(*ast.CallExpr)
			if !ok || len(ce.Args) != 1 {
				return true
			}
			sel, ok := ce.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			typ, ok := accessors[sel.Sel.Name]
			if !ok {
				return true
			}
			var key string
			switch a := ce.Args[0].(type) {
			case *ast.BasicLit:
				if a.Kind == token.STRING {
					key, _ = strconv.Unquote(a.Value)
				}
			case *ast.Ident:
				key = consts[fl.dir+"."+a.Name]
			case *ast.SelectorExpr:
				if x, ok := a.X.(*ast.Ident); ok {
					key = consts[importedDir(fl.f, x.Name)+"."+a.Sel.Name]
				}
			}
			if key == "" || !strings.Contains(key, ".") || strings.ContainsAny(key, " /") {
				return true // not a settings key (another package's method of the same name)
			}
			if reads[key] == nil {
				reads[key] = readSet{}
			}
			if _, seen := reads[key][typ]; !seen {
				reads[key][typ] = fset.Position(ce.Pos()).String()
			}
			return true
		})
	}
	return reads, sources
}

// importedDir is the module folder (slash path) of the package a file
// imports under name, or "" when it is no package of the module.
func importedDir(f *ast.File, name string) string {
	const mod = "github.com/oemkit/messenger/"
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		local := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			local = im.Name.Name
		}
		if local == name {
			if dir, ok := strings.CutPrefix(p, mod); ok {
				return dir
			}
			return ""
		}
	}
	return ""
}

func importsLoader(f *ast.File) bool {
	for _, im := range f.Imports {
		if im.Path.Value == `"github.com/oemkit/messenger/feature/settings"` {
			return true
		}
	}
	return false
}

// TestScanReads checks the scan on a small tree: a read in a file of a
// loader package that does not import the loader itself is found, a key
// constant is taken from the package named by the import (not from another
// package of the same name), and a same-named method elsewhere is no read.
func TestScanReads(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/keys/keys.go", "package keys\n\nconst Port = \"a.port\"\n")
	write("b/keys/keys.go", "package keys\n\nconst Port = \"b.port\"\n")
	write("dev/load.go", "package dev\n\nimport \"github.com/oemkit/messenger/feature/settings\"\n\nfunc load() *settings.File { return nil }\n")
	write("dev/use.go", "package dev\n\nimport \"github.com/oemkit/messenger/b/keys\"\n\nfunc use() { f := load(); f.Int(keys.Port); f.Duration(\"dev.wait\") }\n")
	write("lang/lang.go", "package lang\n\nfunc use(c interface{ Text(string) string }) { c.Text(\"log.line\") }\n")
	reads, _ := scanReads(t, root)
	var got []string
	for k, r := range reads {
		for typ := range r {
			got = append(got, k+" "+string(typ))
		}
	}
	sort.Strings(got)
	want := []string{"b.port " + string(settings.Int), "dev.wait " + string(settings.Duration)}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("reads = %q, want %q", got, want)
	}
}
