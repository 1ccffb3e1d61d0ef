package msgslang

import (
	"log/slog"
	"testing"
)

func BenchmarkText(b *testing.B) {
	c := Load("locales", "de-DE", Options{Logger: slog.New(slog.DiscardHandler)})
	b.ReportAllocs()
	for b.Loop() {
		c.Text("con.presence", "Ana", "ana@example.com", "Beschäftigt")
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Load("locales", "de-DE", Options{Logger: slog.New(slog.DiscardHandler)})
	}
}
