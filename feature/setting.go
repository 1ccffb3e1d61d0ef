package feature

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/oemkit/messenger/feature/settings"
)

// Setting is one declared setting of a catalog item:
//
//	[settings."net.tcp_keepalive_time"]
//	type = "duration"
//	default = "60s"
//	meaning = "idle time before the first TCP keepalive probe"
//
// Without default the key is absent from the settings file unless the OS
// design sets it; meaning then says what the device does without it.
type Setting struct {
	// Type is one of settings.Types.
	Type settings.Type `toml:"type"`
	// Default is the value the image carries unless the BSP or the design
	// overrides it; after loading it is in canonical form (int64, bool,
	// string or []string), or nil.
	Default any `toml:"default"`
	// Meaning is one line saying what the setting does, for the OEM.
	Meaning string `toml:"meaning"`
}

// MaxSettingKey bounds the length of a setting's key.
const MaxSettingKey = 64

var settingKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// validSettingKey reports a problem with a setting key, or "".
func validSettingKey(k string) string {
	if len(k) > MaxSettingKey {
		return fmt.Sprintf("longer than %d bytes", MaxSettingKey)
	}
	if !settingKeyRE.MatchString(k) {
		return `use lower-case dotted words like "net.tcp_keepalive_time"`
	}
	return ""
}

// validateSettings checks the item's declarations and puts defaults into
// canonical form. In a BSP, a table with only a default overrides the
// default of a setting another item declares (checked when settings merge).
func (it *Item) validateSettings() error {
	keys := make([]string, 0, len(it.Settings))
	for k := range it.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := it.Settings[k]
		if why := validSettingKey(k); why != "" {
			return fmt.Errorf("%s: setting %q: %s", it.ID, k, why)
		}
		if it.Kind == KindBSP && s.Type == "" && s.Meaning == "" {
			if s.Default == nil {
				return fmt.Errorf("%s: setting %q: a BSP override needs a default", it.ID, k)
			}
			it.Settings[k] = s
			continue
		}
		if !s.Type.Valid() {
			return fmt.Errorf("%s: setting %q: type = %q: use one of %v", it.ID, k, string(s.Type), settings.Types)
		}
		if s.Meaning == "" {
			return fmt.Errorf("%s: setting %q: missing meaning (one line saying what it does, for the OEM)", it.ID, k)
		}
		if s.Default != nil {
			v, err := s.Type.Normalize(s.Default)
			if err != nil {
				return fmt.Errorf("%s: setting %q: default: %w", it.ID, k, err)
			}
			s.Default = v
		}
		it.Settings[k] = s
	}
	return nil
}

// DeclaredSettings maps every setting key declared in the catalog (not BSP
// overrides) to the item that declares it.
func (c *Catalog) DeclaredSettings() map[string]*Item {
	out := map[string]*Item{}
	for _, it := range c.Items {
		for k, s := range it.Settings {
			if s.Type != "" {
				out[k] = it
			}
		}
	}
	return out
}
