package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// goPackage is one package from go list -deps -json.
type goPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Deps       []string
	Module     *struct {
		Path, Version, Dir string
		Replace            *struct{ Path, Version, Dir string }
	}
}

// goListPackages lists every package linked into the busybox binary (the
// commands and their dependencies) for the image's GOARCH and build tags.
func goListPackages(ctx context.Context, spec Spec, man *Manifest, modDir string) ([]goPackage, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,Standard,Deps,Module"}
	if len(man.BuildTags) > 0 {
		args = append(args, "-tags", strings.Join(man.BuildTags, ","))
	}
	for _, c := range man.Commands {
		args = append(args, c.Pkg)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+spec.GOARCH, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("image: go list: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("image: go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// GoShare is how much of the busybox binary one feature's Go code takes.
type GoShare struct {
	Feature string `json:"feature"`
	// Packages is how many linked packages with code are credited to the
	// feature.
	Packages int `json:"packages"`
	// Text is the machine code of those packages, summed from the
	// binary's Go symbol table (function sizes): exact.
	Text int64 `json:"text"`
	// Bytes and Compressed split the whole binary's size and compressed
	// share in proportion to Text (read-only data, the symbol table itself
	// and data follow code roughly): an estimate.
	Bytes      int64 `json:"bytes"`
	Compressed int64 `json:"compressed"`
}

// Names of shares that are not features.
const (
	shareStd    = "go std"
	shareShared = "go shared"
)

// packageShares credits each linked package to a share. A package belongs
// to the feature whose feature.toml sits in its folder or above it (inside
// the module), else to the only command feature that links it, else to "go
// shared"; the standard library is "go std".
func packageShares(pkgs []goPackage, cmds []Command, features []string, modDir string) map[string]string {
	selected := map[string]bool{}
	for _, f := range features {
		selected[f] = true
	}
	byPath := map[string]*goPackage{}
	for i := range pkgs {
		byPath[pkgs[i].ImportPath] = &pkgs[i]
	}
	users := map[string]map[string]bool{} // package -> command features
	for _, c := range cmds {
		root := byPath[c.Pkg]
		if root == nil {
			continue
		}
		for _, d := range append([]string{c.Pkg}, root.Deps...) {
			if users[d] == nil {
				users[d] = map[string]bool{}
			}
			users[d][c.Feature] = true
		}
	}
	tomlID := map[string]string{}
	folderFeature := func(dir string) string {
		rel, err := filepath.Rel(modDir, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return ""
		}
		for d := dir; ; d = filepath.Dir(d) {
			id, ok := tomlID[d]
			if !ok {
				var v struct{ ID string }
				if _, err := toml.DecodeFile(filepath.Join(d, "feature.toml"), &v); err == nil {
					id = v.ID
				}
				tomlID[d] = id
			}
			if id != "" && selected[id] {
				return id
			}
			if d == modDir || d == filepath.Dir(d) {
				return ""
			}
		}
	}
	out := map[string]string{}
	for _, p := range pkgs {
		share := shareShared
		switch {
		case p.Standard:
			share = shareStd
		case folderFeature(p.Dir) != "":
			share = folderFeature(p.Dir)
		case len(users[p.ImportPath]) == 1:
			for f := range users[p.ImportPath] {
				share = f
			}
		}
		out[p.ImportPath] = share
	}
	return out
}
