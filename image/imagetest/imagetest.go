// Package imagetest gives tests what they need from the build host: the
// unpacked Debian kernel of a BSP, fetched through the same code and cache
// as sysgen build (so no test depends on another package having run
// first), and the project root.
package imagetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/testenv"
)

// Root returns the project folder (the one holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		t.Fatalf("go env GOMOD = %q, %v: run the test inside the project", mod, err)
	}
	return filepath.Dir(mod)
}

// Kernel returns the unpacked kernel package of the BSP (qemu-x86_64,
// qemu-aarch64), downloading it with apt-get into the sysgen cache the
// first time. Without apt-get and dpkg-deb it skips (fails under CI=true).
func Kernel(t testing.TB, bsp string) *image.Kernel {
	t.Helper()
	testenv.Tool(t, "apt-get", "fetching the Debian kernel needs a Debian host with apt-get")
	testenv.Tool(t, "dpkg-deb", "apt-get install dpkg")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k, err := image.FetchBSPKernel(ctx, filepath.Join(Root(t), "bsp", bsp, "feature.toml"))
	if err != nil {
		t.Fatalf("kernel of BSP %s: %v", bsp, err)
	}
	return k
}
