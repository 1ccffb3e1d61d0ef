package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readInitramfs returns the regular files of a built image's initramfs.
func readInitramfs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := ReadInitramfs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBuildFeatureOut builds the design without the audio feature: the
// image must hold no sound modules and the Go binary no audio driver code.
// Then it checks a budget overrun fails before anything is written.
func TestBuildFeatureOut(t *testing.T) {
	NeedKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := MessengerSpec("qemu-x86_64")
	spec.Features = []string{"SYSGEN_MESSENGER", "SYSGEN_ETHERNET"}
	var mods []Module
	for _, m := range spec.Modules {
		if m.Feature != "SYSGEN_AUDIO_HDA" {
			mods = append(mods, m)
		}
	}
	spec.Modules = mods
	dir := filepath.Join(t.TempDir(), "noaudio")
	res, err := Build(ctx, spec, dir)
	if err != nil {
		t.Fatalf("Build(no audio) = %v", err)
	}
	files := readInitramfs(t, dir)
	bb := files["/bbin/bb"]
	if len(bb) == 0 {
		t.Fatalf("initramfs has no /bbin/bb")
	}
	if bytes.Contains(bb, []byte("github.com/oemkit/messenger/drivers/audio.")) {
		t.Errorf("busybox binary of a design without SYSGEN_AUDIO_HDA contains the audio driver")
	}
	if !bytes.Contains(bb, []byte("github.com/oemkit/messenger/drivers/network.")) {
		t.Errorf("busybox binary of a design with SYSGEN_ETHERNET lacks the network driver")
	}
	for p := range files {
		if strings.Contains(p, "/sound/") {
			t.Errorf("initramfs of a design without audio holds %s", p)
		}
	}
	if _, ok := files["/lib/modules/6.1.0-56-amd64/kernel/drivers/net/virtio_net.ko"]; !ok {
		t.Errorf("initramfs lacks virtio_net.ko")
	}
	for _, f := range res.Manifest.Files {
		if f.Type == "file" && f.SHA256 != sha256Hex(files[f.Path]) {
			t.Errorf("manifest sha256 of %s does not match the initramfs", f.Path)
		}
	}

	// Budget: one byte less than this image needs.
	spec.Budget = res.Size.Total - 1
	over := filepath.Join(t.TempDir(), "over")
	_, err = Build(ctx, spec, over)
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("Build(budget %d) = %v, want ErrBudget", spec.Budget, err)
	}
	for _, want := range []string{"go", "SYSGEN_ETHERNET", "raise the size budget in the BSP manifest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("budget error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(over); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output folder exists after a budget overrun (stat err %v)", err)
	}
}

func TestModuleClosure(t *testing.T) {
	NeedKernel(t)
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	k, err := FetchKernel(context.Background(), MessengerSpec("qemu-x86_64").Kernel, "amd64", cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	mods, builtin, err := moduleClosure(k.ModulesDir(), []Module{{Name: "snd-hda-intel", Feature: "A"}, {Name: "virtio_net", Feature: "N"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range mods {
		got[m.Name] = m.Feature
	}
	for _, want := range []string{"snd_hda_intel", "snd_hda_codec", "snd_hda_core", "snd_pcm", "snd", "soundcore", "virtio_net", "net_failover", "failover"} {
		if _, ok := got[want]; !ok {
			t.Errorf("moduleClosure(snd_hda_intel, virtio_net) lacks %s; got %v", want, got)
		}
	}
	if got["failover"] != "N" || got["snd"] != "A" {
		t.Errorf("moduleClosure credits = %v, want failover->N, snd->A", got)
	}
	index := moduleIndexFiles(mods, builtin)
	if b := index["modules.builtin"]; len(builtin) == 0 || string(b) != string(builtin) {
		t.Errorf("modules.builtin in the image = %d bytes, want the kernel's %d", len(b), len(builtin))
	}
	dep := string(index["modules.dep"])
	if !strings.Contains(dep, "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n") {
		t.Errorf("modules.dep lacks the virtio_net line:\n%s", dep)
	}
	if _, _, err := moduleClosure(k.ModulesDir(), []Module{{Name: "no_such_module", Feature: "X"}}); err == nil {
		t.Errorf("moduleClosure(no_such_module) = nil error, want error")
	}
	// FetchKernel must refuse a package whose sha256 does not match.
	bad := MessengerSpec("qemu-x86_64").Kernel
	bad.SHA256 = strings.Repeat("0", 64)
	if _, err := FetchKernel(context.Background(), bad, "amd64", cache, nil); !errors.Is(err, ErrKernelChecksum) {
		t.Errorf("FetchKernel(wrong sha256) = %v, want ErrKernelChecksum", err)
	}
}
