package stdio

// latin1 holds the ASCII for U+00A0..U+00FF, one entry per code point.
var latin1 = [96]string{
	" ", "!", "c", "GBP", "?", "JPY", "|", "S", "\"", "(c)", "a", "<<", "!", "", "(R)", "-", // A0-AF
	"o", "+/-", "2", "3", "'", "u", "P", ".", ",", "1", "o", ">>", " 1/4", " 1/2", " 3/4", "?", // B0-BF
	"A", "A", "A", "A", "Ae", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I", // C0-CF
	"D", "N", "O", "O", "O", "O", "Oe", "x", "O", "U", "U", "U", "Ue", "Y", "Th", "ss", // D0-DF
	"a", "a", "a", "a", "ae", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", // E0-EF
	"d", "n", "o", "o", "o", "o", "oe", "/", "o", "u", "u", "u", "ue", "y", "th", "y", // F0-FF
}

// latinExtA holds the ASCII for U+0100..U+017F (Latin Extended-A).
var latinExtA = [128]string{
	"A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d", // 0100
	"D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g", // 0110
	"G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i", // 0120
	"I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L", // 0130
	"l", "L", "l", "N", "n", "N", "n", "N", "n", "'n", "N", "n", "O", "o", "O", "o", // 0140
	"O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s", // 0150
	"S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u", // 0160
	"U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s", // 0170
}

// other holds the ASCII for single code points outside those blocks:
// typography, currency, a few Latin letters the pseudo-locale uses, and
// CJK punctuation and spaces.
var other = map[rune]string{
	'ƀ': "b", 'Ɓ': "B", 'Ƒ': "F", 'ƒ': "f", 'Ƥ': "P", 'ƥ': "p",
	'Ḿ': "M", 'ḿ': "m", 'Ṽ': "V", 'ṽ': "v", 'Ẋ': "X", 'ẋ': "x", 'ẞ': "SS",
	'\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ", '\u2004': " ",
	'\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ",
	'\u200a': " ", '\u200b': "", '\u200c': "", '\u200d': "", '\u2060': "", '\ufeff': "",
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "--", '\u2015': "--",
	'\u2018': "'", '\u2019': "'", '\u201a': ",", '\u201b': "'",
	'\u201c': "\"", '\u201d': "\"", '\u201e': "\"", '\u201f': "\"",
	'\u2020': "+", '\u2022': "*", '\u2026': "...", '\u2030': "%o",
	'\u2032': "'", '\u2033': "\"", '\u2039': "<", '\u203a': ">",
	'\u20ac': "EUR", '\u2122': "(TM)", '\u2190': "<-", '\u2192': "->", '\u2212': "-",
	'\u3000': " ", '\u3001': ", ", '\u3002': ". ", '\u300c': "\"", '\u300d': "\"",
	'\u300e': "\"", '\u300f': "\"", '\u3010': "[", '\u3011': "]", '\u301c': "~",
	'\u30fb': " ", 'ヷ': "va", 'ヸ': "vi", 'ヹ': "ve", 'ヺ': "vo",
}

// kana holds the Hepburn romaji of the hiragana U+3041..U+3096 (katakana
// map onto them); "" marks the sokuon (small tsu), handled separately.
var kana = [86]string{
	"a", "a", "i", "i", "u", "u", "e", "e", "o", "o", // ぁあぃいぅうぇえぉお
	"ka", "ga", "ki", "gi", "ku", "gu", "ke", "ge", "ko", "go", // かがきぎくぐけげこご
	"sa", "za", "shi", "ji", "su", "zu", "se", "ze", "so", "zo", // さざしじすずせぜそぞ
	"ta", "da", "chi", "ji", "", "tsu", "zu", "te", "de", "to", "do", // ただちぢっつづてでとど
	"na", "ni", "nu", "ne", "no", // なにぬねの
	"ha", "ba", "pa", "hi", "bi", "pi", "fu", "bu", "pu", "he", "be", "pe", "ho", "bo", "po", // は..ぽ
	"ma", "mi", "mu", "me", "mo", // まみむめも
	"ya", "ya", "yu", "yu", "yo", "yo", // ゃやゅゆょよ
	"ra", "ri", "ru", "re", "ro", // らりるれろ
	"wa", "wa", "i", "e", "o", "n", // ゎわゐゑをん
	"vu", "ka", "ke", // ゔゕゖ
}

const (
	sokuon = 'っ'
	hatsu  = 'ん'
	choon  = 'ー'
)

// hiragana returns the hiragana for a kana rune (katakana shifted down),
// and whether r is a kana in the table.
func hiragana(r rune) (rune, bool) {
	if r >= 0x30a1 && r <= 0x30f6 {
		r -= 0x60
	}
	return r, r >= 0x3041 && r <= 0x3096
}

// smallY reports whether h is a small ya, yu or yo.
func smallY(h rune) bool { return h == 'ゃ' || h == 'ゅ' || h == 'ょ' }

// smallVowel reports whether h is a small a, i, u, e or o.
func smallVowel(h rune) bool {
	return h == 'ぁ' || h == 'ぃ' || h == 'ぅ' || h == 'ぇ' || h == 'ぉ'
}
