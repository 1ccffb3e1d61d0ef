package msgslang

import (
	"errors"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"de-DE", "de-DE"},
		{"de_DE", "de-DE"},
		{"de-de", "de-DE"},
		{"DE_de", "de-DE"},
		{"de_DE.UTF-8", "de-DE"},
		{"ja_JP.eucJP@euro", "ja-JP"},
		{"0409", "en-US"},
		{"0407", "de-DE"},
		{"0411", "ja-JP"},
		{"0x0411", "ja-JP"},
		{"0x407", "de-DE"},
		{"0501", "qps-ploc"},
		{"qps-ploc", "qps-ploc"},
		{"QPS-PLOC", "qps-ploc"},
		{"zh-hant-tw", "zh-Hant-TW"},
		{"es-419", "es-419"},
		{"de", "de"},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonical(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "../etc/passwd", "de/DE", "d", "deutsch", "de--DE", "de DE", "0999", "x-DE", "de-DE-verylongsubtag", "日本"} {
		if got, err := Canonical(bad); !errors.Is(err, ErrLocaleName) {
			t.Errorf("Canonical(%q) = %q, %v, want ErrLocaleName", bad, got, err)
		}
	}
}

func TestPluralCategory(t *testing.T) {
	tests := []struct {
		locale string
		n      int
		want   string
	}{
		{"en-US", 1, One}, {"en-US", 0, Other}, {"en-US", 2, Other},
		{"de-DE", 1, One}, {"de-DE", 21, Other},
		{"ja-JP", 1, Other}, {"ja-JP", 0, Other},
		{"fr-FR", 0, One}, {"fr-FR", 1, One}, {"fr-FR", 2, Other},
		{"pt-BR", 0, One}, {"pt-PT", 0, Other},
		{"ru-RU", 1, One}, {"ru-RU", 21, One}, {"ru-RU", 11, Many}, {"ru-RU", 3, Few}, {"ru-RU", 13, Many}, {"ru-RU", 5, Many},
		{"pl-PL", 1, One}, {"pl-PL", 22, Few}, {"pl-PL", 21, Many},
		{"cs-CZ", 3, Few}, {"cs-CZ", 5, Other},
		{"ar-SA", 0, Zero}, {"ar-SA", 2, Two}, {"ar-SA", 103, Few}, {"ar-SA", 111, Many}, {"ar-SA", 100, Other},
		{"xx-YY", 1, Other},
		{"en-US", -1, Other},
		{"ru-RU", -1 << 63, Many},
	}
	for _, tt := range tests {
		if got := PluralCategory(tt.locale, tt.n); got != tt.want {
			t.Errorf("PluralCategory(%q, %d) = %q, want %q", tt.locale, tt.n, got, tt.want)
		}
		cats := PluralCategories(tt.locale)
		found := false
		for _, c := range cats {
			found = found || c == PluralCategory(tt.locale, tt.n)
		}
		if !found {
			t.Errorf("PluralCategory(%q, %d) = %q, not in PluralCategories %v", tt.locale, tt.n, PluralCategory(tt.locale, tt.n), cats)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"de_DE.UTF-8", "0x0407", "zh-hant-tw", "qps-ploc", "../../x", "0409", "de--", "a@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		if !validName(c) {
			t.Fatalf("Canonical(%q) = %q: not a safe file name", s, c)
		}
		if c2, err := Canonical(c); err != nil || c2 != c {
			t.Fatalf("Canonical(Canonical(%q)) = %q, %v, want %q", s, c2, err, c)
		}
	})
}

func validName(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
