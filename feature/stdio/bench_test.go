package stdio

import (
	"io"
	"strings"
	"testing"
)

func BenchmarkWriterASCII(b *testing.B) {
	line := []byte(strings.Repeat("* Grüße: サインインしました。状態: オンライン\n", 16))
	w := NewWriter(io.Discard, ASCII)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		w.Write(line)
	}
}
