package strsafe

import (
	"fmt"
	"testing"
)

func BenchmarkFormat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Format(256, "* %s (%s) is now %s", "Ana", "ana@example.com", "Busy")
	}
}

func BenchmarkSprintf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = fmt.Sprintf("* %s (%s) is now %s", "Ana", "ana@example.com", "Busy")
	}
}
