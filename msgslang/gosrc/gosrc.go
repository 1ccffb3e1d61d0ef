// Package gosrc reads a string table out of Go source without compiling it:
// the `var catalog = map[string]string{...}` literal in msmsgs/strings.go,
// which is the source of the en-US locale.
package gosrc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
)

// ReadFile returns the map literal assigned to the package-level variable
// name in the Go file at path.
func ReadFile(path, name string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gosrc: %w", err)
	}
	return Table(path, src, name)
}

// Table parses src (named filename in messages) and returns the
// map[string]string literal assigned to the package-level variable name.
// Keys and values must be string literals or + concatenations of them.
func Table(filename string, src []byte, name string) (map[string]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("gosrc: %w", err)
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if id.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.CompositeLit)
				if !ok {
					return nil, fmt.Errorf("gosrc: %s: var %s is not a map literal", filename, name)
				}
				return table(fset, lit)
			}
		}
	}
	return nil, fmt.Errorf("gosrc: %s: no package-level var %s (want var %s = map[string]string{...})", filename, name, name)
}

func table(fset *token.FileSet, lit *ast.CompositeLit) (map[string]string, error) {
	out := make(map[string]string, len(lit.Elts))
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return nil, fmt.Errorf("gosrc: %s: not a key: value element", fset.Position(e.Pos()))
		}
		k, err := str(fset, kv.Key)
		if err != nil {
			return nil, err
		}
		v, err := str(fset, kv.Value)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("gosrc: %s: duplicate key %q", fset.Position(kv.Pos()), k)
		}
		out[k] = v
	}
	return out, nil
}

// str evaluates a string literal or a + concatenation of literals.
func str(fset *token.FileSet, e ast.Expr) (string, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			return strconv.Unquote(e.Value)
		}
	case *ast.ParenExpr:
		return str(fset, e.X)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, err := str(fset, e.X)
			if err != nil {
				return "", err
			}
			b, err := str(fset, e.Y)
			if err != nil {
				return "", err
			}
			return a + b, nil
		}
	}
	return "", fmt.Errorf("gosrc: %s: not a string literal (keys and values must be constant strings)", fset.Position(e.Pos()))
}
