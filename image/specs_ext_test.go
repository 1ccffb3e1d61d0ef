package image_test

import (
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/sysgen/design"
)

// The image tests make their specs from the real catalog and BSP manifests,
// as sysgen build does.
func init() {
	image.CatalogSpec = func(bsp string, env ...string) (image.Spec, error) {
		d, err := design.Load(design.Source{Env: env, BSP: bsp})
		if err != nil {
			return image.Spec{}, err
		}
		return d.Spec()
	}
}
