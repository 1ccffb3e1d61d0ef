package msgslang

import (
	"bytes"
	"sort"
)

// MinContainsLen is the shortest string ContainsStrings looks for: shorter
// ones ("ok", "%s") occur in any binary by chance.
const MinContainsLen = 8

// ContainsStrings returns, sorted, the keys of table whose strings occur
// byte for byte in data (for example a program binary). Strings shorter
// than MinContainsLen are skipped. Use it to prove a binary carries no
// translation: ContainsStrings(bin, Without(loc.Table(), builtinEnglish)).
func ContainsStrings(data []byte, table map[string]string) []string {
	var found []string
	for k, s := range table {
		if len(s) >= MinContainsLen && bytes.Contains(data, []byte(s)) {
			found = append(found, k)
		}
	}
	sort.Strings(found)
	return found
}

// Without returns the entries of table whose string is not one of the
// strings of other: a translation minus the strings that are the same in
// English ("Online", layout strings like "  %s: %s").
func Without(table, other map[string]string) map[string]string {
	have := make(map[string]bool, len(other))
	for _, s := range other {
		have[s] = true
	}
	out := make(map[string]string, len(table))
	for k, s := range table {
		if !have[s] {
			out[k] = s
		}
	}
	return out
}
