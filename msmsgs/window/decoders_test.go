package window

// The host tests decode the window's pictures with the decoders a
// Messenger design carries.
import (
	_ "github.com/oemkit/messenger/feature/imaging/gif"
	_ "github.com/oemkit/messenger/feature/imaging/png"
)
