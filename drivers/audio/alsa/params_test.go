package alsa

import (
	"testing"
	"unsafe"
)

func TestLayout(t *testing.T) {
	var p HWParams
	for _, tt := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(snd_pcm_hw_params)", unsafe.Sizeof(p), 608},
		{"offsetof(masks)", unsafe.Offsetof(p.Masks), 4},
		{"offsetof(mres)", unsafe.Offsetof(p.mres), 100},
		{"offsetof(intervals)", unsafe.Offsetof(p.Intervals), 260},
		{"offsetof(ires)", unsafe.Offsetof(p.ires), 404},
		{"offsetof(rmask)", unsafe.Offsetof(p.Rmask), 512},
		{"offsetof(msbits)", unsafe.Offsetof(p.Msbits), 524},
		{"offsetof(rate_den)", unsafe.Offsetof(p.RateDen), 532},
		{"offsetof(fifo_size)", unsafe.Offsetof(p.FifoSize), 536},
		{"offsetof(reserved)", unsafe.Offsetof(p.reserved), 544},
		{"sizeof(snd_interval)", unsafe.Sizeof(Interval{}), 12},
		{"sizeof(snd_xferi)", unsafe.Sizeof(xferi{}), 24},
		{"sizeof(snd_pcm_sw_params)", unsafe.Sizeof(swParams{}), 136},
		{"offsetof(sw.avail_min)", unsafe.Offsetof(swParams{}.AvailMin), 16},
		{"offsetof(sw.start_threshold)", unsafe.Offsetof(swParams{}.StartThreshold), 32},
		{"offsetof(sw.boundary)", unsafe.Offsetof(swParams{}.Boundary), 64},
		{"offsetof(sw.proto)", unsafe.Offsetof(swParams{}.Proto), 72},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestIoctlNumbers(t *testing.T) {
	for _, tt := range []struct {
		name      string
		got, want uintptr
	}{
		{"HW_REFINE", ioctlHWRefine, 0xC2604110},
		{"HW_PARAMS", ioctlHWParams, 0xC2604111},
		{"SW_PARAMS", ioctlSWParams, 0xC0884113},
		{"PREPARE", ioctlPrepare, 0x4140},
		{"DROP", ioctlDrop, 0x4143},
		{"DRAIN", ioctlDrain, 0x4144},
		{"WRITEI_FRAMES", ioctlWriteI, 0x40184150},
		{"READI_FRAMES", ioctlReadI, 0x80184151},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestParamsEncoding(t *testing.T) {
	var p HWParams
	p.Any()
	p.SetMask(ParamAccess, AccessRWInterleaved)
	p.SetMask(ParamFormat, FormatS16LE)
	p.SetInterval(ParamChannels, 2, 2)
	p.SetInterval(ParamRate, 44100, 44100)
	b := (*[608]byte)(unsafe.Pointer(&p))
	le32 := func(off int) uint32 {
		return uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24
	}
	for _, tt := range []struct {
		name string
		off  int
		want uint32
	}{
		{"access mask word 0", 4, 1 << 3},
		{"access mask word 1", 8, 0},
		{"format mask word 0", 4 + 32, 1 << 2},
		{"subformat mask word 0 (any)", 4 + 64, 0xffffffff},
		{"channels min", 260 + 2*12, 2},
		{"channels max", 260 + 2*12 + 4, 2},
		{"channels flags (integer)", 260 + 2*12 + 8, 4},
		{"rate min", 260 + 3*12, 44100},
		{"period size max (any)", 260 + 5*12 + 4, 0xffffffff},
		{"rmask", 512, 0xffffffff},
		{"info", 520, 0xffffffff},
	} {
		if got := le32(tt.off); got != tt.want {
			t.Errorf("%s at %d = %#x, want %#x", tt.name, tt.off, got, tt.want)
		}
	}
	if !p.MaskHas(ParamFormat, FormatS16LE) || p.MaskHas(ParamFormat, 3) {
		t.Errorf("MaskHas(format) wrong after SetMask(S16_LE)")
	}
}

func TestChoose(t *testing.T) {
	for _, tt := range []struct {
		rate, ch               int
		rmin, rmax, cmin, cmax uint32
		wantRate, wantCh       int
	}{
		{8000, 1, 16000, 96000, 2, 2, 16000, 2}, // QEMU HDA: 2x, the smallest exact multiple
		{48000, 2, 16000, 96000, 2, 2, 48000, 2},
		{44100, 1, 16000, 96000, 2, 2, 44100, 2},
		{8000, 1, 44100, 44100, 2, 2, 44100, 2},
		{8000, 1, 8000, 48000, 1, 2, 8000, 1},
		{11025, 6, 32000, 48000, 1, 2, 44100, 2},
		{1000, 1, 192000, 192000, 1, 8, 192000, 1},
	} {
		r, c := Choose(tt.rate, tt.ch, tt.rmin, tt.rmax, tt.cmin, tt.cmax)
		if r != tt.wantRate || c != tt.wantCh {
			t.Errorf("Choose(%d, %d, [%d,%d], [%d,%d]) = %d, %d, want %d, %d", tt.rate, tt.ch, tt.rmin, tt.rmax, tt.cmin, tt.cmax, r, c, tt.wantRate, tt.wantCh)
		}
	}
}

func TestControlLayout(t *testing.T) {
	for _, tt := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(snd_ctl_elem_id)", unsafe.Sizeof(ElemID{}), 64},
		{"offsetof(id.name)", unsafe.Offsetof(ElemID{}.Name), 16},
		{"offsetof(id.index)", unsafe.Offsetof(ElemID{}.Index), 60},
		{"sizeof(snd_ctl_elem_list)", unsafe.Sizeof(elemList{}), 80},
		{"offsetof(list.pids)", unsafe.Offsetof(elemList{}.Pids), 16},
		{"sizeof(snd_ctl_elem_info)", unsafe.Sizeof(ElemInfo{}), 272},
		{"offsetof(info.type)", unsafe.Offsetof(ElemInfo{}.Type), 64},
		{"offsetof(info.value)", unsafe.Offsetof(ElemInfo{}.value), 80},
		{"sizeof(snd_ctl_elem_value)", unsafe.Sizeof(elemValue{}), 1224},
		{"offsetof(value.value)", unsafe.Offsetof(elemValue{}.Values), 72},
		{"ELEM_LIST", ioctlElemList, 0xC0505510},
		{"ELEM_INFO", ioctlElemInfo, 0xC1105511},
		{"ELEM_READ", ioctlElemRead, 0xC4C85512},
		{"ELEM_WRITE", ioctlElemWrite, 0xC4C85513},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
	var id ElemID
	copy(id.Name[:], "Master Playback Volume")
	if got := id.NameString(); got != "Master Playback Volume" {
		t.Errorf("NameString() = %q, want %q", got, "Master Playback Volume")
	}
	var info ElemInfo
	*(*[3]int64)(unsafe.Pointer(&info.value[0])) = [3]int64{0, 87, 1}
	if lo, hi, st := info.Range(); lo != 0 || hi != 87 || st != 1 {
		t.Errorf("Range() = %d, %d, %d, want 0, 87, 1", lo, hi, st)
	}
}
