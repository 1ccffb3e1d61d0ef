package display

import (
	"encoding/binary"
	"fmt"
	"image"
)

// Format is the pixel layout of a framebuffer: bits per pixel and the bit
// offset and length of each colour channel.
type Format struct {
	BPP                       int
	Red, Green, Blue          int // bit offsets
	RedLen, GreenLen, BlueLen int
}

// Supported reports whether ConvertLine can write f.
func (f Format) Supported() error {
	if f.BPP == 32 || (f.BPP == 16 && f.RedLen == 5 && f.GreenLen == 6 && f.BlueLen == 5) {
		return nil
	}
	return fmt.Errorf("display: framebuffer format %d bpp (r%d g%d b%d) is not supported; use a 32 bpp mode", f.BPP, f.RedLen, f.GreenLen, f.BlueLen)
}

// ConvertLine writes the pixels x0..x1 of src's line y into line, one
// framebuffer line in format f (line[0] is pixel 0).
func ConvertLine(line []byte, f Format, src *image.RGBA, y, x0, x1 int) error {
	s := src.Pix[src.PixOffset(x0, y):][:(x1-x0)*4]
	switch {
	case f.BPP == 32 && f.Red == 16 && f.Green == 8 && f.Blue == 0:
		// XRGB8888, what DRM fbdev sets up: swap red and blue of each
		// RGBA word (one load and one store per pixel).
		d := line[x0*4:]
		if len(d) < len(s) {
			return fmt.Errorf("display: framebuffer line %d is short", y)
		}
		d = d[:len(s)]
		// Two pixels a word: half the loop's trips, which count under
		// emulation (a 1024x768 frame is 786,432 pixels).
		i := 0
		for ; i+8 <= len(s); i += 8 {
			v := binary.LittleEndian.Uint64(s[i:])
			binary.LittleEndian.PutUint64(d[i:], (v&0x000000ff000000ff)<<16|v&0x0000ff000000ff00|(v>>16)&0x000000ff000000ff)
		}
		for ; i+4 <= len(s); i += 4 {
			v := binary.LittleEndian.Uint32(s[i:])
			binary.LittleEndian.PutUint32(d[i:], (v&0xff)<<16|v&0xff00|(v>>16)&0xff)
		}
	case f.BPP == 32:
		d := line[x0*4:]
		if len(d) < len(s) {
			return fmt.Errorf("display: framebuffer line %d is short", y)
		}
		for x := 0; x < x1-x0; x++ {
			v := uint32(s[4*x])<<f.Red | uint32(s[4*x+1])<<f.Green | uint32(s[4*x+2])<<f.Blue
			binary.LittleEndian.PutUint32(d[4*x:], v)
		}
	case f.BPP == 16 && f.RedLen == 5 && f.GreenLen == 6 && f.BlueLen == 5:
		d := line[x0*2:]
		if len(d) < (x1-x0)*2 {
			return fmt.Errorf("display: framebuffer line %d is short", y)
		}
		for x := 0; x < x1-x0; x++ {
			v := uint16(s[4*x]>>3)<<f.Red | uint16(s[4*x+1]>>2)<<f.Green | uint16(s[4*x+2]>>3)<<f.Blue
			binary.LittleEndian.PutUint16(d[2*x:], v)
		}
	default:
		return f.Supported()
	}
	return nil
}

// Convert writes src's pixels inside r into dst, a framebuffer of the
// given format, stride (bytes per line) and size. Pixels outside the
// framebuffer are dropped. Supported: 32 bpp (any channel offsets) and
// 16 bpp RGB565.
func Convert(dst []byte, stride int, f Format, size image.Point, src *image.RGBA, r image.Rectangle) error {
	if err := f.Supported(); err != nil {
		return err
	}
	r = r.Intersect(src.Bounds()).Intersect(image.Rectangle{Max: size})
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if len(dst) < (y+1)*stride {
			return fmt.Errorf("display: framebuffer line %d is short", y)
		}
		if err := ConvertLine(dst[y*stride:(y+1)*stride], f, src, y, r.Min.X, r.Max.X); err != nil {
			return err
		}
	}
	return nil
}
