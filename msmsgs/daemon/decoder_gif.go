//go:build sysgen_imaging_gif_decode

package daemon

// The GIF decoder (emoticons, display pictures, pictures of pages) is
// linked when the design has SYSGEN_IMAGING_GIF_DECODE.
import _ "github.com/oemkit/messenger/feature/imaging/gif"
