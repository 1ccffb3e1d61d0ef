//go:build sysgen_imaging_png_decode

package daemon

// The PNG decoder (display pictures, pictures of pages) is linked when the
// design has SYSGEN_IMAGING_PNG_DECODE.
import _ "github.com/oemkit/messenger/feature/imaging/png"
