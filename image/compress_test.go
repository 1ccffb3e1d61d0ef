package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func TestCompressRoundTrip(t *testing.T) {
	in := bytes.Repeat([]byte("070701 initramfs bytes \x00\x01\x02"), 5000)
	for _, kind := range []string{"zstd", "xz", "gzip"} {
		t.Run(kind, func(t *testing.T) {
			c, err := compress(kind, in)
			if err != nil {
				t.Fatal(err)
			}
			c2, _ := compress(kind, in)
			if !bytes.Equal(c, c2) {
				t.Errorf("compress(%s) is not deterministic", kind)
			}
			var r io.Reader
			switch kind {
			case "zstd":
				d, err := zstd.NewReader(bytes.NewReader(c))
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				r = d
			case "xz":
				// The kernel accepts only CRC32 or no check.
				if c[7] != 0x01 {
					t.Errorf("xz stream check type = %#x, want CRC32 (0x01)", c[7])
				}
				if r, err = xz.NewReader(bytes.NewReader(c)); err != nil {
					t.Fatal(err)
				}
			case "gzip":
				if r, err = gzip.NewReader(bytes.NewReader(c)); err != nil {
					t.Fatal(err)
				}
			}
			out, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("compress(%s) does not round-trip", kind)
			}
		})
	}
	if _, err := compress("lz4", in); err == nil {
		t.Errorf("compress(lz4) = nil error, want error")
	}
}

// BenchmarkCompress compresses the Messenger x86 initramfs (cpio) with each
// supported compression: size and time.
//
//	go test ./image -run XXX -bench Compress -benchtime 2x
func BenchmarkCompress(b *testing.B) {
	NeedKernel(b)
	dir := filepath.Join(b.TempDir(), "img")
	if _, err := Build(context.Background(), MessengerSpec("qemu-x86_64"), dir); err != nil {
		b.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := decompressFile(filepath.Join(dir, m.Initramfs), m.Compression)
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"zstd", "xz", "gzip"} {
		b.Run(kind, func(b *testing.B) {
			var n int
			for i := 0; i < b.N; i++ {
				c, err := compress(kind, raw)
				if err != nil {
					b.Fatal(err)
				}
				n = len(c)
			}
			b.ReportMetric(float64(n), "bytes")
			b.ReportMetric(float64(len(raw)), "cpio-bytes")
		})
	}
}
