package display

import (
	"encoding/binary"
	"fmt"
	"image"
)

// Format is the pixel layout of a framebuffer: bits per pixel and the bit
// offset of each 8-bit colour channel.
type Format struct {
	BPP                       int
	Red, Green, Blue          int // bit offsets
	RedLen, GreenLen, BlueLen int
}

// Convert writes src's pixels inside r into dst, a framebuffer of the
// given format, stride (bytes per line) and size. Pixels outside the
// framebuffer are dropped. Supported: 32 bpp (any channel offsets) and
// 16 bpp RGB565.
func Convert(dst []byte, stride int, f Format, size image.Point, src *image.RGBA, r image.Rectangle) error {
	r = r.Intersect(src.Bounds()).Intersect(image.Rectangle{Max: size})
	switch {
	case f.BPP == 32 && f.Red == 16 && f.Green == 8 && f.Blue == 0:
		// XRGB8888, what DRM fbdev sets up: swap red and blue of each
		// RGBA word (one load and one store per pixel).
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, y):][:r.Dx()*4]
			d := dst[y*stride+r.Min.X*4:]
			if len(d) < len(s) {
				return fmt.Errorf("display: framebuffer line %d is short", y)
			}
			d = d[:len(s)]
			for i := 0; i+4 <= len(s); i += 4 {
				v := binary.LittleEndian.Uint32(s[i:])
				binary.LittleEndian.PutUint32(d[i:], (v&0xff)<<16|v&0xff00|(v>>16)&0xff)
			}
		}
	case f.BPP == 32:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, y):]
			d := dst[y*stride+r.Min.X*4:]
			if len(d) < r.Dx()*4 {
				return fmt.Errorf("display: framebuffer line %d is short", y)
			}
			for x := 0; x < r.Dx(); x++ {
				v := uint32(s[4*x])<<f.Red | uint32(s[4*x+1])<<f.Green | uint32(s[4*x+2])<<f.Blue
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			}
		}
	case f.BPP == 16 && f.RedLen == 5 && f.GreenLen == 6 && f.BlueLen == 5:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, y):]
			d := dst[y*stride+r.Min.X*2:]
			if len(d) < r.Dx()*2 {
				return fmt.Errorf("display: framebuffer line %d is short", y)
			}
			for x := 0; x < r.Dx(); x++ {
				v := uint16(s[4*x]>>3)<<f.Red | uint16(s[4*x+1]>>2)<<f.Green | uint16(s[4*x+2]>>3)<<f.Blue
				d[2*x], d[2*x+1] = byte(v), byte(v>>8)
			}
		}
	default:
		return fmt.Errorf("display: framebuffer format %d bpp (r%d g%d b%d) is not supported; use a 32 bpp mode", f.BPP, f.RedLen, f.GreenLen, f.BlueLen)
	}
	return nil
}
