package bcm2835

import "github.com/oemkit/messenger/drivers/kmod"

func loadModules(names ...string) ([]string, error) {
	idx, err := kmod.Open()
	if err != nil {
		return nil, err
	}
	return idx.Load(nil, names...)
}
