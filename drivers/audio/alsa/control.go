package alsa

import (
	"bytes"
	"unsafe"
)

// Control element interfaces, types and access bits
// (SNDRV_CTL_ELEM_IFACE_*, SNDRV_CTL_ELEM_TYPE_*, SNDRV_CTL_ELEM_ACCESS_*).
const (
	IfaceMixer = 2

	TypeBoolean = 1
	TypeInteger = 2

	AccessRead  = 1 << 0
	AccessWrite = 1 << 1
)

// ElemID is struct snd_ctl_elem_id (64 bytes).
type ElemID struct {
	NumID     uint32
	Iface     int32
	Device    uint32
	Subdevice uint32
	Name      [44]byte
	Index     uint32
}

// NameString returns the element name, e.g. "Master Playback Volume".
func (id *ElemID) NameString() string {
	n := id.Name[:]
	if i := bytes.IndexByte(n, 0); i >= 0 {
		n = n[:i]
	}
	return string(n)
}

// elemList is struct snd_ctl_elem_list (80 bytes on 64-bit).
type elemList struct {
	Offset   uint32
	Space    uint32
	Used     uint32
	Count    uint32
	Pids     uintptr
	reserved [50]byte
	_        [6]byte
}

// ElemInfo is struct snd_ctl_elem_info (272 bytes on 64-bit). For integer
// elements, Min, Max and Step are value.integer.
type ElemInfo struct {
	ID       ElemID
	Type     int32
	Access   uint32
	Count    uint32
	Owner    int32
	value    [128]byte
	reserved [64]byte
}

// Range returns value.integer's min, max and step.
func (e *ElemInfo) Range() (min, max, step int64) {
	v := (*[3]int64)(unsafe.Pointer(&e.value[0]))
	return v[0], v[1], v[2]
}

// elemValue is struct snd_ctl_elem_value (1224 bytes on 64-bit); Values is
// value.integer.value (long[128]).
type elemValue struct {
	ID       ElemID
	Indirect uint32
	_        uint32
	Values   [128]int64
	reserved [128]byte
}

// Control ioctls (SNDRV_CTL_IOCTL_*).
var (
	ioctlElemList  = ioc(iocRead|iocWrite, 'U', 0x10, unsafe.Sizeof(elemList{}))
	ioctlElemInfo  = ioc(iocRead|iocWrite, 'U', 0x11, unsafe.Sizeof(ElemInfo{}))
	ioctlElemRead  = ioc(iocRead|iocWrite, 'U', 0x12, unsafe.Sizeof(elemValue{}))
	ioctlElemWrite = ioc(iocRead|iocWrite, 'U', 0x13, unsafe.Sizeof(elemValue{}))
)
