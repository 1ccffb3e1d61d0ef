package resolve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/feature/settings"
)

// DefaultBSP is used when neither --bsp nor the design file names one.
const DefaultBSP = "qemu-x86_64"

// FlagPrefix starts every OEM build flag in the environment.
const FlagPrefix = "SYSGEN_"

// File is an OS design file (osdesign.toml).
type File struct {
	// BSP is the board support package's short name.
	BSP string `toml:"bsp"`
	// Flags set (true) or clear (false) catalog items, like SYSGEN_X=1 / SYSGEN_X=.
	Flags map[string]bool `toml:"flags"`
	// Locales are the msgslang locales put into the image ("en-US" or CE LCIDs like "0409").
	Locales []string `toml:"locales"`
	// Certificates are PEM files (relative to the design file) added to the
	// device certificate store.
	Certificates []string `toml:"certificates"`
	// Settings override the merged settings (flat dotted keys).
	Settings map[string]any `toml:"settings"`

	// Path is where the file was read from.
	Path string `toml:"-"`
	// data is the file's text, for the line numbers of setting errors.
	data []byte
}

// settingValueProblem says why a design's setting value cannot be any
// setting (a table, or a string or list over settings.MaxValueSize), or "".
func settingValueProblem(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return `a table: settings are flat dotted keys, e.g. "net.tcp_keepalive_time" = "60s"`
	case string:
		if len(x) > settings.MaxValueSize {
			return fmt.Sprintf("a value of %d bytes, more than the %d a setting may hold", len(x), settings.MaxValueSize)
		}
	case []any:
		n := 0
		for _, e := range x {
			if s, ok := e.(string); ok {
				n += len(s)
			} else {
				return "a list of something other than strings: lists of strings are the only lists settings hold"
			}
		}
		if n > settings.MaxValueSize || len(x) > settings.MaxListLen {
			return fmt.Sprintf("a list of %d strings and %d bytes, more than the %d entries or %d bytes a setting may hold", len(x), n, settings.MaxListLen, settings.MaxValueSize)
		}
	}
	return ""
}

// MaxDesignSize bounds an osdesign.toml.
const MaxDesignSize = 64 << 10

// DesignLimits bound an osdesign.toml; they are checked before decoding.
var DesignLimits = feature.Limits{Size: MaxDesignSize, Nesting: 8, KeyParts: 8, KeyLen: 128}

// LoadFile reads an osdesign.toml strictly.
func LoadFile(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("design: %w", err)
	}
	defer fd.Close()
	data, err := io.ReadAll(io.LimitReader(fd, MaxDesignSize+1))
	if err != nil {
		return nil, fmt.Errorf("design: reading %s: %w", path, err)
	}
	return ParseFile(path, data)
}

// ParseFile decodes an osdesign.toml strictly; unknown keys are errors.
// Size, nesting and key length are checked first (DesignLimits). Settings
// are checked against the catalog's declarations by MergeSettings.
func ParseFile(path string, data []byte) (*File, error) {
	if err := feature.CheckTOML(path, data, DesignLimits); err != nil {
		if len(data) > MaxDesignSize {
			return nil, fmt.Errorf("design: %w (an OS design names a BSP, flags, locales and settings: it needs far less)", err)
		}
		return nil, fmt.Errorf("design: %w", err)
	}
	var f File
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("design: %s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("design: %s: %v", path, err)
	}
	// The decoder leaves a table field empty, without an error, when the
	// file gives it another type (flags = ["SYSGEN_X"]).
	for _, key := range []string{"flags", "settings"} {
		if typ := md.Type(key); md.IsDefined(key) && typ != "" && typ != "Hash" {
			example := map[string]string{"flags": "SYSGEN_MESSENGER = true", "settings": `"msmsgs.server" = "messenger.example:1863"`}[key]
			return nil, fmt.Errorf("design: %s:%d: %s must be a table, not %s: write a [%s] section with lines like %s", path, feature.KeyLine(data, []string{key}), key, strings.ToLower(typ), key, example)
		}
	}
	for _, k := range md.Undecoded() {
		if len(k) > 2 && k[0] == "settings" {
			return nil, fmt.Errorf("design: %s:%d: setting %q is a table: settings are flat dotted keys, e.g. \"net.tcp_keepalive_time\" = \"60s\"", path, feature.KeyLine(data, k[:2]), k[1])
		}
		return nil, fmt.Errorf("design: %s: unknown key %q: allowed are bsp, flags, locales, certificates, settings", path, k.String())
	}
	for id := range f.Flags {
		if !strings.HasPrefix(id, FlagPrefix) {
			return nil, fmt.Errorf("design: %s: flag %q: flags are SYSGEN_ names, e.g. SYSGEN_MESSENGER = true", path, id)
		}
	}
	for k, v := range f.Settings {
		if why := settingValueProblem(v); why != "" {
			return nil, fmt.Errorf("design: %s:%d: setting %q: %s", path, feature.KeyLine(data, []string{"settings", k}), k, why)
		}
	}
	f.Path = path
	f.data = data
	return &f, nil
}

// Flags are the OEM's set and cleared items, with where each came from.
type Flags struct {
	Set, Cleared []string
	// Source maps an item id to "environment" or the design file path.
	Source map[string]string
}

// FlagsFromEnv reads SYSGEN_X=1 (set) and SYSGEN_X= (clear) from an
// environment list, exactly as CE's `set SYSGEN_X=1`. Any other value is an
// error that says how to fix it.
func FlagsFromEnv(environ []string) (Flags, error) {
	fl := Flags{Source: map[string]string{}}
	var errs []error
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, FlagPrefix) {
			continue
		}
		switch v {
		case "1":
			fl.Set = append(fl.Set, k)
		case "":
			fl.Cleared = append(fl.Cleared, k)
		default:
			errs = append(errs, fmt.Errorf("flags: %w: %s=%q: use %s=1 to add the item or %s= to clear it", ErrFlagValue, k, v, k, k))
			continue
		}
		fl.Source[k] = "environment"
	}
	sort.Strings(fl.Set)
	sort.Strings(fl.Cleared)
	return fl, errors.Join(errs...)
}

// Combine builds a Design from an optional design file, environment flags
// and an optional --bsp value. The environment wins over the file for the
// same flag (it is the OEM's build shell); --bsp wins over the file.
func Combine(f *File, env Flags, bsp string) (Design, Flags) {
	state := map[string]bool{}
	src := map[string]string{}
	if f != nil {
		for id, on := range f.Flags {
			state[id] = on
			src[id] = f.Path
		}
	}
	for _, id := range env.Set {
		state[id] = true
		src[id] = "environment"
	}
	for _, id := range env.Cleared {
		state[id] = false
		src[id] = "environment"
	}
	var d Design
	for id, on := range state {
		if on {
			d.Set = append(d.Set, id)
		} else {
			d.Cleared = append(d.Cleared, id)
		}
	}
	sort.Strings(d.Set)
	sort.Strings(d.Cleared)
	switch {
	case bsp != "":
		d.BSP = bsp
	case f != nil && f.BSP != "":
		d.BSP = f.BSP
	default:
		d.BSP = DefaultBSP
	}
	return d, Flags{Set: d.Set, Cleared: d.Cleared, Source: src}
}
