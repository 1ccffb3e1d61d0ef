package resolve

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
)

// Setting is one merged value of the device settings file.
type Setting struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
	// Source is the item id or design file that gave the value.
	Source string `json:"source"`
	// Overrides lists earlier sources whose value this one replaced.
	Overrides []string `json:"overrides,omitempty"`
}

// MergeSettings merges settings like CE's registry merge: each selected
// feature's defaults (two features giving one key different values is an
// error naming both), then the BSP's, then the design file's overrides.
// Later layers win and the result records what they replaced.
func MergeSettings(r *Result, f *File) ([]Setting, error) {
	merged := map[string]*Setting{}
	var errs []error
	for _, s := range r.Items {
		if s.Item == r.BSP {
			continue
		}
		for k, v := range s.Item.Settings {
			if prev, ok := merged[k]; ok && !reflect.DeepEqual(prev.Value, v) {
				errs = append(errs, fmt.Errorf("settings: %w: %q is %v in %s but %v in %s; set it once, or override it in osdesign.toml [settings]",
					ErrSettingClash, k, prev.Value, prev.Source, v, s.Item.ID))
				continue
			}
			merged[k] = &Setting{Key: k, Value: v, Source: s.Item.ID}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	layer := func(src string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := &Setting{Key: k, Value: m[k], Source: src}
			if prev, ok := merged[k]; ok {
				s.Overrides = append(append([]string(nil), prev.Overrides...), prev.Source)
			}
			merged[k] = s
		}
	}
	layer(r.BSP.ID, r.BSP.Settings)
	if f != nil {
		layer(f.Path, f.Settings)
	}
	out := make([]Setting, 0, len(merged))
	for _, s := range merged {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// SettingsFile renders merged settings as the device's settings file: one
// JSON object with flat dotted keys, sorted, as /etc/settings.json.
func SettingsFile(settings []Setting) ([]byte, error) {
	m := make(map[string]any, len(settings))
	for _, s := range settings {
		m[s.Key] = s.Value
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return append(b, '\n'), nil
}
