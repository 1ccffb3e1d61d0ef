package msgslang

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Source is the locale the strings are written in; every other locale is
// translated from it and falls back to it.
const Source = "en-US"

// Pseudo is the pseudo-locale generated from Source for layout testing.
const Pseudo = "qps-ploc"

// ErrLocaleName is wrapped by errors about an unusable locale name.
var ErrLocaleName = errors.New("invalid locale name")

// lcids maps Windows CE locale identifiers to locale names (the common
// ones; an OEM can always use the name itself).
var lcids = map[uint16]string{
	0x0401: "ar-SA", 0x0402: "bg-BG", 0x0403: "ca-ES", 0x0404: "zh-TW",
	0x0405: "cs-CZ", 0x0406: "da-DK", 0x0407: "de-DE", 0x0408: "el-GR",
	0x0409: "en-US", 0x040a: "es-ES", 0x040b: "fi-FI", 0x040c: "fr-FR",
	0x040d: "he-IL", 0x040e: "hu-HU", 0x040f: "is-IS", 0x0410: "it-IT",
	0x0411: "ja-JP", 0x0412: "ko-KR", 0x0413: "nl-NL", 0x0414: "nb-NO",
	0x0415: "pl-PL", 0x0416: "pt-BR", 0x0418: "ro-RO", 0x0419: "ru-RU",
	0x041a: "hr-HR", 0x041b: "sk-SK", 0x041d: "sv-SE", 0x041e: "th-TH",
	0x041f: "tr-TR", 0x0421: "id-ID", 0x0422: "uk-UA", 0x0424: "sl-SI",
	0x0425: "et-EE", 0x0426: "lv-LV", 0x0427: "lt-LT", 0x042a: "vi-VN",
	0x042d: "eu-ES", 0x0439: "hi-IN", 0x043e: "ms-MY", 0x0456: "gl-ES",
	0x0501: "qps-ploc",
	0x0804: "zh-CN", 0x0807: "de-CH", 0x0809: "en-GB", 0x080a: "es-MX",
	0x080c: "fr-BE", 0x0813: "nl-BE", 0x0814: "nn-NO", 0x0816: "pt-PT",
	0x0c04: "zh-HK", 0x0c07: "de-AT", 0x0c09: "en-AU", 0x0c0a: "es-ES",
	0x0c0c: "fr-CA", 0x1004: "zh-SG", 0x1009: "en-CA", 0x100c: "fr-CH",
	0x1409: "en-NZ", 0x1809: "en-IE",
}

// primary is the locale used for a bare language ("de" -> "de-DE") and
// tried when a regional variant has no file ("de-AT" -> "de-DE").
var primary = map[string]string{
	"ar": "ar-SA", "bg": "bg-BG", "ca": "ca-ES", "cs": "cs-CZ", "da": "da-DK",
	"de": "de-DE", "el": "el-GR", "en": "en-US", "es": "es-ES", "et": "et-EE",
	"eu": "eu-ES", "fi": "fi-FI", "fr": "fr-FR", "gl": "gl-ES", "he": "he-IL",
	"hi": "hi-IN", "hr": "hr-HR", "hu": "hu-HU", "id": "id-ID", "is": "is-IS",
	"it": "it-IT", "ja": "ja-JP", "ko": "ko-KR", "lt": "lt-LT", "lv": "lv-LV",
	"ms": "ms-MY", "nb": "nb-NO", "nl": "nl-NL", "nn": "nn-NO", "pl": "pl-PL",
	"pt": "pt-BR", "ro": "ro-RO", "ru": "ru-RU", "sk": "sk-SK", "sl": "sl-SI",
	"sv": "sv-SE", "th": "th-TH", "tr": "tr-TR", "uk": "uk-UA", "vi": "vi-VN",
	"zh": "zh-CN",
}

// LCID returns the locale name for a Windows CE locale identifier written
// as four hex digits, optionally with 0x ("0407", "0x0407", "0x407").
func LCID(s string) (string, bool) {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if h == s && len(h) != 4 || len(h) == 0 || len(h) > 4 {
		return "", false
	}
	v, err := strconv.ParseUint(h, 16, 16)
	if err != nil {
		return "", false
	}
	name, ok := lcids[uint16(v)]
	return name, ok
}

// Canonical returns the canonical spelling of a locale name: "de_DE",
// "de-de", "de_DE.UTF-8" and the LCID "0407" all give "de-DE". Only
// letters, digits, '-' and '_' are accepted, so the result is safe as a
// file name.
func Canonical(name string) (string, error) {
	orig := name
	if n, ok := LCID(name); ok {
		return n, nil
	}
	// POSIX locale names: drop ".codeset" and "@modifier".
	if i := strings.IndexAny(name, ".@"); i >= 0 {
		name = name[:i]
	}
	if name == "" || len(name) > 35 {
		return "", fmt.Errorf("msgslang: locale %q: %w (use a name like de-DE or an LCID like 0407)", orig, ErrLocaleName)
	}
	parts := strings.Split(strings.ReplaceAll(name, "_", "-"), "-")
	for i, p := range parts {
		if p == "" || len(p) > 8 || !alnum(p) {
			return "", fmt.Errorf("msgslang: locale %q: %w (use a name like de-DE or an LCID like 0407)", orig, ErrLocaleName)
		}
		p = strings.ToLower(p)
		switch {
		case i == 0:
			if len(p) < 2 || len(p) > 3 || !alpha(p) {
				return "", fmt.Errorf("msgslang: locale %q: %w: language %q must be 2 or 3 letters (use a name like de-DE)", orig, ErrLocaleName, p)
			}
		case len(p) == 2 && alpha(p) || len(p) == 3 && !alpha(p):
			p = strings.ToUpper(p) // region
		case len(p) == 4 && alpha(p) && parts[0] != "qps":
			p = strings.ToUpper(p[:1]) + p[1:] // script
		}
		parts[i] = p
	}
	return strings.Join(parts, "-"), nil
}

// language returns the language subtag of a canonical locale name.
func language(name string) string {
	lang, _, _ := strings.Cut(name, "-")
	return lang
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func alpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
