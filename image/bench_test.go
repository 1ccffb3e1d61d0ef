package image_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/qemu"
)

// BenchmarkBuild measures a cold build (go build -a: nothing from the Go
// cache) and a warm rebuild after one Go file of the device init changed.
//
//	go test ./image -run XXX -bench Build -benchtime 3x
func BenchmarkBuild(b *testing.B) {
	image.NeedKernel(b)
	ctx := context.Background()
	spec := image.MessengerSpec("qemu-x86_64")
	dir := filepath.Join(b.TempDir(), "img")
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			res, err := image.Build(ctx, spec, dir, image.WithFullRebuild())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("cold build: %+v", res.Times)
		}
	})
	b.Run("warm-one-file-changed", func(b *testing.B) {
		stamp := filepath.Join("deviceinit", "zz_benchstamp.go")
		defer os.Remove(stamp)
		if _, err := image.Build(ctx, spec, dir); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			// A changed variable changes the compiled package, so the
			// busybox binary is really relinked.
			src := fmt.Sprintf("package main\n\n// benchStamp changes for every warm-rebuild benchmark iteration.\nvar benchStamp = \"%d\"\n", time.Now().UnixNano())
			if err := os.WriteFile(stamp, []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := image.Build(ctx, spec, dir)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("warm rebuild: %+v", res.Times)
		}
	})
}

// BenchmarkBoot builds the Messenger image for each BSP with each
// compression and boots it under TCG: initramfs size, QEMU start to /init
// (u-root's banner), to the device init, and to DEVICE-READY, plus the guest's
// own uptime at those points. x86 boots through the kernel's PVH entry; the
// zstd-bzimage case boots the bzImage as a real PC does.
//
//	go test ./image -run XXX -bench Boot -benchtime 1x
func BenchmarkBoot(b *testing.B) {
	image.NeedKernel(b)
	ctx := context.Background()
	for _, bsp := range []string{"qemu-x86_64", "qemu-aarch64"} {
		for _, comp := range []string{"zstd", "xz", "gzip", "zstd-bzimage"} {
			bzImage := comp == "zstd-bzimage"
			if bzImage {
				if bsp != "qemu-x86_64" {
					continue
				}
				comp = "zstd"
			}
			name := bsp + "/" + comp
			if bzImage {
				name += "-bzimage"
			}
			b.Run(name, func(b *testing.B) {
				spec := image.MessengerSpec(bsp)
				spec.Compression = comp
				if _, err := os.Stat("/usr/bin/" + spec.QEMU[0]); err != nil {
					b.Skipf("%s not installed", spec.QEMU[0])
				}
				dir := filepath.Join(b.TempDir(), "img")
				res, err := image.Build(ctx, spec, dir)
				if err != nil {
					b.Fatal(err)
				}
				var toInit, toUinit, toReady, gUinit, gReady time.Duration
				for i := 0; i < b.N; i++ {
					r, err := qemu.Boot(ctx, dir, qemu.Options{Timeout: 5 * time.Minute, BzImage: bzImage})
					if err != nil {
						b.Fatal(err)
					}
					toInit += r.ToInit
					toUinit += r.ToUinit
					toReady += r.ToReady
					gUinit += r.GuestUinit
					gReady += r.GuestReady
				}
				n := float64(b.N)
				b.ReportMetric(float64(res.Manifest.InitramfsSize), "initramfs-bytes")
				b.ReportMetric(toInit.Seconds()/n, "s-to-init")
				b.ReportMetric(toUinit.Seconds()/n, "s-to-uinit")
				b.ReportMetric(toReady.Seconds()/n, "s-to-ready")
				b.ReportMetric((toReady-toInit).Seconds()/n, "s-ready-after-init")
				b.ReportMetric(gUinit.Seconds()/n, "guest-s-to-uinit")
				b.ReportMetric(gReady.Seconds()/n, "guest-s-to-ready")
				for _, f := range res.Size.Features {
					b.Logf("%s %s: %-18s %8d bytes compressed (%d uncompressed)", bsp, comp, f.Feature, f.Compressed, f.Bytes)
				}
			})
		}
	}
}
