package resolve

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/feature/settings"
)

// Setting is one merged value of the device settings file.
type Setting struct {
	Key string `json:"key"`
	// Value is in the canonical form of Type (int64, bool, string, []string).
	Value any           `json:"value"`
	Type  settings.Type `json:"type"`
	// Owner is the item that declares the setting.
	Owner string `json:"owner"`
	// Source is the item id or design file that gave the value.
	Source string `json:"source"`
	// Overrides lists earlier sources whose value this one replaced.
	Overrides []string `json:"overrides,omitempty"`
}

// MergeSettings merges settings like CE's registry merge: the defaults each
// selected item declares, then the BSP's overrides, then the design file's.
// Later layers win and the result records what they replaced. A design key
// no catalog item declares is an error naming the nearest declared key; a
// key whose item is not in the design, or a value that does not fit the
// declared type, is an error naming the item or the expected type.
func MergeSettings(r *Result, f *File) ([]Setting, error) {
	merged := map[string]*Setting{}
	declared := map[string]*feature.Item{}
	for _, s := range r.Items {
		for k, decl := range s.Item.Settings {
			if decl.Type == "" {
				continue // a BSP override, applied below
			}
			declared[k] = s.Item
			if decl.Default != nil {
				merged[k] = &Setting{Key: k, Value: decl.Default, Type: decl.Type, Owner: s.Item.ID, Source: s.Item.ID}
			}
		}
	}
	override := func(src, k string, v any) {
		owner := declared[k]
		s := &Setting{Key: k, Value: v, Type: owner.Settings[k].Type, Owner: owner.ID, Source: src}
		if prev, ok := merged[k]; ok {
			s.Overrides = append(append([]string(nil), prev.Overrides...), prev.Source)
		}
		merged[k] = s
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(r.BSP.Settings)) {
		if r.BSP.Settings[k].Type != "" {
			continue
		}
		if _, ok := declared[k]; !ok {
			continue // overrides a setting of an item this design leaves out
		}
		override(r.BSP.ID, k, r.BSP.Settings[k].Default)
	}
	if f != nil {
		data := f.data
		all := r.Catalog.DeclaredSettings()
		known := make([]string, 0, len(all))
		for k := range all {
			known = append(known, k)
		}
		sort.Strings(known)
		for _, k := range slices.Sorted(maps.Keys(f.Settings)) {
			at := f.Path
			if data != nil {
				at = fmt.Sprintf("%s:%d", f.Path, feature.KeyLine(data, []string{"settings", k}))
			}
			owner, ok := declared[k]
			if !ok {
				if it, elsewhere := all[k]; elsewhere {
					errs = append(errs, fmt.Errorf("design: %s: %w: %q belongs to %s (%s), which is not in this design: set %s=1 or remove the setting",
						at, ErrSetting, k, it.ID, it.Title, it.ID))
				} else {
					hint := feature.Suggest(k, known)
					if hint == "" {
						hint = "; `sysgen settings --all` lists the declared settings"
					}
					errs = append(errs, fmt.Errorf("design: %s: %w: unknown key %q%s", at, ErrSetting, k, hint))
				}
				continue
			}
			decl := owner.Settings[k]
			v, err := decl.Type.Normalize(f.Settings[k])
			if err != nil {
				errs = append(errs, fmt.Errorf("design: %s: %w: %q (declared by %s as %s: %s): %v", at, ErrSetting, k, owner.ID, decl.Type, decl.Meaning, err))
				continue
			}
			override(f.Path, k, v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]Setting, 0, len(merged))
	for _, s := range merged {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// SettingsFile renders merged settings as the device's settings file
// (settings.Path): one JSON object with flat dotted keys, sorted, each value
// in the canonical form of its type, which settings.Load reads.
func SettingsFile(merged []Setting) ([]byte, error) {
	m := make(map[string]any, len(merged))
	for _, s := range merged {
		m[s.Key] = s.Value
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return append(b, '\n'), nil
}
