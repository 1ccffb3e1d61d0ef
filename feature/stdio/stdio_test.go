package stdio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		setting string
		env     map[string]string
		want    Encoding
	}{
		{"utf-8", nil, UTF8},
		{"UTF8", nil, UTF8},
		{"ascii", map[string]string{"LANG": "de_DE.UTF-8"}, ASCII},
		{"auto", nil, ASCII},
		{"", nil, ASCII},
		{"auto", map[string]string{"LANG": "de_DE.UTF-8"}, UTF8},
		{"auto", map[string]string{"LANG": "C.utf8"}, UTF8},
		{"auto", map[string]string{"LANG": "C"}, ASCII},
		{"auto", map[string]string{"LANG": "POSIX"}, ASCII},
		{"auto", map[string]string{"LANG": "de_DE.ISO-8859-1"}, ASCII},
		{"auto", map[string]string{"LANG": "de_DE.UTF-8@euro"}, UTF8},
		{"auto", map[string]string{"LC_ALL": "C", "LANG": "de_DE.UTF-8"}, ASCII},
		{"auto", map[string]string{"LC_CTYPE": "ja_JP.UTF-8", "LANG": "C"}, UTF8},
		{"auto", map[string]string{"LC_ALL": "en_US.UTF-8", "LC_CTYPE": "C"}, UTF8},
	}
	for _, tt := range tests {
		got, err := Detect(tt.setting, func(k string) string { return tt.env[k] })
		if err != nil || got != tt.want {
			t.Errorf("Detect(%q, %v) = %v, %v, want %v", tt.setting, tt.env, got, err, tt.want)
		}
	}
	if _, err := Detect("latin1", os.Getenv); !errors.Is(err, ErrSetting) {
		t.Errorf("Detect(latin1) error = %v, want ErrSetting", err)
	}
}

func TestTransliterate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ASCII\n", "plain ASCII\n"},
		{"Grüße aus Köln, Äpfel, Öl, Übermut, Straße", "Gruesse aus Koeln, Aepfel, Oel, Uebermut, Strasse"},
		{"café, naïve, façade, Ångström, Dvořák, Łódź", "cafe, naive, facade, Angstroem, Dvorak, Lodz"},
		{"„Anführung“ und “quotes” ‘single’ – dash — long … end", "\"Anfuehrung\" und \"quotes\" 'single' - dash -- long ... end"},
		{"5 €, © 2026, ½", "5 EUR, (c) 2026,  1/2"},
		{"[åďďéď ýøû ţø ţĥéîŕ !!!]", "[added you to their !!!]"},
		{"[Ɓûšý Ḿéšš ṽîå ẋ ƀ ƥ]", "[Busy Mess via x b p]"},
		{"オンライン", "onrain"},
		{"サインインしました", "sain'inshimashita"},
		{"とうきょう", "toukyou"},
		{"きゃ しゃ ちゃ じゃ にゅ りょ", "kya sha cha ja nyu ryo"},
		{"ちょっと まって", "chotto matte"},
		{"マッチャ", "matcha"},
		{"コンピューター", "konpyuutaa"},
		{"サーバー", "saabaa"},
		{"ファイル ティー ウェブ シェア ヴァ", "fairu tii webu shea va"},
		{"しんよう かんい", "shin'you kan'i"},
		{"あっ", "a"},
		{"ー", "-"},
		{"全角ＡＢＣ１２３", "\\u5168\\u89d2ABC123"},
		{"連絡先", "\\u9023\\u7d61\\u5148"},
		{"ブロック中", "burokku\\u4e2d"},
		{"。、「」", ". , \"\""},
		{"emoji 😀", "emoji \\U0001f600"},
		{"bad \xff byte", "bad ? byte"},
		{"cut \xe2\x82", "cut ??"},
	}
	for _, tt := range tests {
		if got := Transliterate(tt.in); got != tt.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKanaTable(t *testing.T) {
	// Spot checks that the table lines up with the code points.
	tests := map[rune]string{'ぁ': "a", 'か': "ka", 'し': "shi", 'ち': "chi", 'つ': "tsu", 'ど': "do", 'な': "na", 'ふ': "fu", 'ぽ': "po", 'も': "mo", 'ょ': "yo", 'ろ': "ro", 'を': "o", 'ん': "n", 'ゔ': "vu", 'ゖ': "ke"}
	for r, want := range tests {
		if got := kana[r-0x3041]; got != want {
			t.Errorf("kana[%c] = %q, want %q", r, got, want)
		}
	}
}

func TestWriterASCII(t *testing.T) {
	in := "* Grüße: サインインしました。状態: オンライン\nちょっと\n"
	want := Transliterate(in)
	// Every split of the input gives the same output.
	for i := 0; i <= len(in); i++ {
		var out bytes.Buffer
		w := NewWriter(&out, ASCII)
		w.Write([]byte(in[:i]))
		w.Write([]byte(in[i:]))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("split at %d: output %q, want %q", i, out.String(), want)
		}
	}
	// Byte by byte, a finished line is out without Flush.
	var out bytes.Buffer
	w := NewWriter(&out, ASCII)
	for i := 0; i < len(in); i++ {
		w.Write([]byte{in[i]})
	}
	if out.String() != want {
		t.Errorf("byte-wise output %q, want %q", out.String(), want)
	}
}

func TestWriterUTF8(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, UTF8)
	in := "Grüße サインイン\n"
	if n, err := w.Write([]byte(in)); n != len(in) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if out.String() != in {
		t.Errorf("UTF-8 output %q, want %q", out.String(), in)
	}
}

func TestShippedJapanese(t *testing.T) {
	// Every shipped Japanese string shows as ASCII that still has its
	// format verbs.
	b, err := os.ReadFile(filepath.Join("..", "..", "msgslang", "locales", "ja-JP.toml"))
	if err != nil {
		t.Fatalf("the shipped ja-JP locale is missing: %v", err)
	}
	got := Transliterate(string(b))
	for i := 0; i < len(got); i++ {
		if got[i] >= utf8.RuneSelf {
			t.Fatalf("Transliterate(ja-JP.toml) has non-ASCII byte at %d", i)
		}
	}
	if strings.Count(got, "%s") != strings.Count(string(b), "%s") {
		t.Errorf("Transliterate(ja-JP.toml) changed the number of %%s verbs")
	}
}

func FuzzWriter(f *testing.F) {
	f.Add([]byte("Grüße サインイン ちょっと \xff"), uint8(3))
	f.Add([]byte("っ\xe3\x83"), uint8(1))
	f.Add([]byte("ンー😀ッチャ"), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		want := Transliterate(string(in))
		for i := 0; i < len(want); i++ {
			if want[i] >= utf8.RuneSelf {
				t.Fatalf("Transliterate(%q) = %q, not ASCII", in, want)
			}
		}
		size := int(chunk)%8 + 1
		var out bytes.Buffer
		w := NewWriter(&out, ASCII)
		for i := 0; i < len(in); i += size {
			w.Write(in[i:min(i+size, len(in))])
		}
		w.Flush()
		if out.String() != want {
			t.Fatalf("Writer in %d-byte chunks of %q = %q, want %q", size, in, out.String(), want)
		}
	})
}
