package image

import (
	"fmt"
	"testing"

	"github.com/oemkit/messenger/internal/testenv"
)

// CatalogSpec makes the spec of the design that the OEM flags in env
// select, for a BSP, from the real catalog and BSP manifests through
// sysgen/design. That package imports this one, so only the external test
// package can call it: specs_ext_test.go sets CatalogSpec in its init.
var CatalogSpec func(bsp string, env ...string) (Spec, error)

// MessengerSpec is the spec of SYSGEN_MESSENGER=1 on bsp, made from the real
// catalog (exported for the tests in package image_test).
func MessengerSpec(bsp string) Spec {
	s, err := catalogSpec(bsp, "SYSGEN_MESSENGER=1")
	if err != nil {
		panic(err)
	}
	return s
}

func catalogSpec(bsp string, env ...string) (Spec, error) {
	if CatalogSpec == nil {
		return Spec{}, fmt.Errorf("image tests: CatalogSpec is unset; specs_ext_test.go must set it")
	}
	s, err := CatalogSpec(bsp, env...)
	if err != nil {
		return s, fmt.Errorf("image tests: design %v on %s from the real catalog: %w", env, bsp, err)
	}
	return s, nil
}

// NeedKernel skips when the kernel package cannot be fetched here.
func NeedKernel(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a real image; skipped in -short mode")
	}
	testenv.Tool(t, "apt-get", "fetching the Debian kernel needs a Debian host with apt-get")
	testenv.Tool(t, "dpkg-deb", "apt-get install dpkg")
}
