package alsa

import "unsafe"

// ioctl request numbers, computed as the kernel's _IO/_IOR/_IOW/_IOWR macros
// do (asm-generic/ioctl.h, used by x86 and arm64).
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

// swParams is struct snd_pcm_sw_params (64-bit layout, 136 bytes).
type swParams struct {
	TstampMode       int32
	PeriodStep       uint32
	SleepMin         uint32
	_                uint32
	AvailMin         uint64
	XferAlign        uint64
	StartThreshold   uint64
	StopThreshold    uint64
	SilenceThreshold uint64
	SilenceSize      uint64
	Boundary         uint64
	Proto            uint32
	TstampType       uint32
	_                [56]byte
}

// xferi is struct snd_xferi: {snd_pcm_sframes_t result; void *buf;
// snd_pcm_uframes_t frames}.
type xferi struct {
	Result int64
	Buf    uintptr
	Frames uint64
}

// ioctl numbers (SNDRV_PCM_IOCTL_*).
var (
	ioctlPVersion  = ioc(iocRead, 'A', 0x00, 4)
	ioctlHWRefine  = ioc(iocRead|iocWrite, 'A', 0x10, unsafe.Sizeof(HWParams{}))
	ioctlHWParams  = ioc(iocRead|iocWrite, 'A', 0x11, unsafe.Sizeof(HWParams{}))
	ioctlHWFree    = ioc(iocNone, 'A', 0x12, 0)
	ioctlSWParams  = ioc(iocRead|iocWrite, 'A', 0x13, unsafe.Sizeof(swParams{}))
	ioctlDelay     = ioc(iocRead, 'A', 0x21, 8) // snd_pcm_sframes_t
	ioctlPrepare   = ioc(iocNone, 'A', 0x40, 0)
	ioctlStart     = ioc(iocNone, 'A', 0x42, 0)
	ioctlDrop      = ioc(iocNone, 'A', 0x43, 0)
	ioctlDrain     = ioc(iocNone, 'A', 0x44, 0)
	ioctlWriteI    = ioc(iocWrite, 'A', 0x50, unsafe.Sizeof(xferi{}))
	ioctlReadI     = ioc(iocRead, 'A', 0x51, unsafe.Sizeof(xferi{}))
	_              = ioctlHWFree
	_              = ioctlStart
	_              = ioctlPVersion
	sizeofHWParams = unsafe.Sizeof(HWParams{})
)
