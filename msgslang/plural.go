package msgslang

// Plural categories, as named by the Unicode CLDR plural rules.
const (
	Zero  = "zero"
	One   = "one"
	Two   = "two"
	Few   = "few"
	Many  = "many"
	Other = "other"
)

// pluralRule selects the category for a count and lists the categories a
// language needs. The rules are CLDR's cardinal rules for whole numbers
// (https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html).
type pluralRule struct {
	categories []string
	choose     func(n int) string
}

var (
	ruleOther = pluralRule{[]string{Other}, func(int) string { return Other }}
	ruleOne   = pluralRule{[]string{One, Other}, func(n int) string {
		if n == 1 {
			return One
		}
		return Other
	}}
	// French and Brazilian Portuguese: 0 and 1 are singular.
	ruleZeroOne = pluralRule{[]string{One, Other}, func(n int) string {
		if n == 0 || n == 1 {
			return One
		}
		return Other
	}}
	// Russian, Ukrainian, Belarusian.
	ruleEastSlavic = pluralRule{[]string{One, Few, Many, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n%10 == 1 && n%100 != 11:
			return One
		case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
			return Few
		}
		return Many
	}}
	// Croatian, Serbian, Bosnian.
	ruleWestBalkan = pluralRule{[]string{One, Few, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n%10 == 1 && n%100 != 11:
			return One
		case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
			return Few
		}
		return Other
	}}
	rulePolish = pluralRule{[]string{One, Few, Many, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n == 1:
			return One
		case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
			return Few
		}
		return Many
	}}
	// Czech and Slovak.
	ruleCzech = pluralRule{[]string{One, Few, Other}, func(n int) string {
		switch {
		case n == 1:
			return One
		case n >= 2 && n <= 4:
			return Few
		}
		return Other
	}}
	ruleRomanian = pluralRule{[]string{One, Few, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n == 1:
			return One
		case n == 0 || n%100 >= 2 && n%100 <= 19:
			return Few
		}
		return Other
	}}
	ruleSlovenian = pluralRule{[]string{One, Two, Few, Other}, func(n int) string {
		switch abs(n) % 100 {
		case 1:
			return One
		case 2:
			return Two
		case 3, 4:
			return Few
		}
		return Other
	}}
	ruleLithuanian = pluralRule{[]string{One, Few, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n%10 == 1 && (n%100 < 11 || n%100 > 19):
			return One
		case n%10 >= 2 && (n%100 < 11 || n%100 > 19):
			return Few
		}
		return Other
	}}
	ruleLatvian = pluralRule{[]string{Zero, One, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n%10 == 0 || n%100 >= 11 && n%100 <= 19:
			return Zero
		case n%10 == 1 && n%100 != 11:
			return One
		}
		return Other
	}}
	ruleHebrew = pluralRule{[]string{One, Two, Other}, func(n int) string {
		switch n {
		case 1:
			return One
		case 2:
			return Two
		}
		return Other
	}}
	ruleArabic = pluralRule{[]string{Zero, One, Two, Few, Many, Other}, func(n int) string {
		n = abs(n)
		switch {
		case n == 0:
			return Zero
		case n == 1:
			return One
		case n == 2:
			return Two
		case n%100 >= 3 && n%100 <= 10:
			return Few
		case n%100 >= 11:
			return Many
		}
		return Other
	}}
)

// pluralRules maps a language to its rule. Languages not listed use only
// "other": the OEM writes one form, which is shown for every count.
var pluralRules = map[string]pluralRule{
	"ja": ruleOther, "zh": ruleOther, "ko": ruleOther, "th": ruleOther,
	"vi": ruleOther, "id": ruleOther, "ms": ruleOther,
	"en": ruleOne, "de": ruleOne, "nl": ruleOne, "sv": ruleOne, "da": ruleOne,
	"nb": ruleOne, "nn": ruleOne, "fi": ruleOne, "et": ruleOne, "it": ruleOne,
	"es": ruleOne, "ca": ruleOne, "gl": ruleOne, "eu": ruleOne, "el": ruleOne,
	"hu": ruleOne, "tr": ruleOne, "bg": ruleOne, "is": ruleOne, "hi": ruleZeroOne,
	"qps": ruleOne,
	"fr":  ruleZeroOne, "pt": ruleZeroOne,
	"ru": ruleEastSlavic, "uk": ruleEastSlavic, "be": ruleEastSlavic,
	"hr": ruleWestBalkan, "sr": ruleWestBalkan, "bs": ruleWestBalkan,
	"pl": rulePolish, "cs": ruleCzech, "sk": ruleCzech, "ro": ruleRomanian,
	"sl": ruleSlovenian, "lt": ruleLithuanian, "lv": ruleLatvian,
	"he": ruleHebrew, "ar": ruleArabic,
}

// ruleFor returns the plural rule of a canonical locale name.
func ruleFor(locale string) pluralRule {
	if locale == "pt-PT" {
		return ruleOne
	}
	if r, ok := pluralRules[language(locale)]; ok {
		return r
	}
	return ruleOther
}

// PluralCategories returns the plural forms a locale's files must give for
// a string with a count, e.g. [one other] for de-DE and [other] for ja-JP.
func PluralCategories(locale string) []string {
	return append([]string(nil), ruleFor(locale).categories...)
}

// PluralCategory returns the form a locale uses for count n.
func PluralCategory(locale string, n int) string {
	return ruleFor(locale).choose(n)
}

func abs(n int) int {
	if n < 0 {
		if -n < 0 { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}
