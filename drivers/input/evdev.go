package input

import (
	"encoding/binary"
	"fmt"
)

// Event types and codes of the Linux input layer (linux/input-event-codes.h).
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvRel = 0x02
	EvAbs = 0x03

	AbsX = 0x00
	AbsY = 0x01

	BtnLeft = 0x110
)

// Key codes the window uses (linux/input-event-codes.h).
const (
	KeyEsc       = 1
	KeyBackspace = 14
	KeyTab       = 15
	KeyEnter     = 28
	KeyLeftCtrl  = 29
	KeyLeftShift = 42
	KeyRightShft = 54
	KeyLeftAlt   = 56
	KeySpace     = 57
	KeyCapsLock  = 58
	KeyF1        = 59
	KeyF2        = 60
	KeyF3        = 61
	KeyF4        = 62
	KeyF5        = 63
	KeyF6        = 64
	KeyF7        = 65
	KeyF8        = 66
	KeyKPEnter   = 96
	KeyUp        = 103
	KeyPageUp    = 104
	KeyLeft      = 105
	KeyRight     = 106
	KeyDown      = 108
	KeyPageDown  = 109
)

// EventSize is the size of struct input_event on 64-bit Linux.
const EventSize = 24

// Event is one input_event.
type Event struct {
	Type  uint16
	Code  uint16
	Value int32
}

// ParseEvents decodes whole input_event records from b (64-bit layout:
// 16 bytes of time, type, code, value) and returns them with the bytes of
// a trailing partial record, which the caller keeps for the next read.
func ParseEvents(b []byte) ([]Event, []byte) {
	var out []Event
	for len(b) >= EventSize {
		out = append(out, Event{
			Type:  binary.LittleEndian.Uint16(b[16:]),
			Code:  binary.LittleEndian.Uint16(b[18:]),
			Value: int32(binary.LittleEndian.Uint32(b[20:])),
		})
		b = b[EventSize:]
	}
	return out, b
}

// usLayout maps key codes to the characters of a US keyboard, unshifted
// and shifted.
var usLayout = map[uint16][2]rune{
	2: {'1', '!'}, 3: {'2', '@'}, 4: {'3', '#'}, 5: {'4', '$'}, 6: {'5', '%'},
	7: {'6', '^'}, 8: {'7', '&'}, 9: {'8', '*'}, 10: {'9', '('}, 11: {'0', ')'},
	12: {'-', '_'}, 13: {'=', '+'},
	16: {'q', 'Q'}, 17: {'w', 'W'}, 18: {'e', 'E'}, 19: {'r', 'R'}, 20: {'t', 'T'},
	21: {'y', 'Y'}, 22: {'u', 'U'}, 23: {'i', 'I'}, 24: {'o', 'O'}, 25: {'p', 'P'},
	26: {'[', '{'}, 27: {']', '}'},
	30: {'a', 'A'}, 31: {'s', 'S'}, 32: {'d', 'D'}, 33: {'f', 'F'}, 34: {'g', 'G'},
	35: {'h', 'H'}, 36: {'j', 'J'}, 37: {'k', 'K'}, 38: {'l', 'L'},
	39: {';', ':'}, 40: {'\'', '"'}, 41: {'`', '~'}, 43: {'\\', '|'},
	44: {'z', 'Z'}, 45: {'x', 'X'}, 46: {'c', 'C'}, 47: {'v', 'V'}, 48: {'b', 'B'},
	49: {'n', 'N'}, 50: {'m', 'M'}, 51: {',', '<'}, 52: {'.', '>'}, 53: {'/', '?'},
	KeySpace: {' ', ' '},
}

// Keyboard turns key events into characters with the US layout, tracking
// shift and caps lock.
type Keyboard struct {
	shift, caps bool
}

// Press is a key press (or auto-repeat) after the layout: Rune is set for
// a character key, Code always.
type Press struct {
	Code uint16
	Rune rune
}

// Feed takes one event and returns the press it makes, if any.
func (k *Keyboard) Feed(e Event) (Press, bool) {
	if e.Type != EvKey {
		return Press{}, false
	}
	switch e.Code {
	case KeyLeftShift, KeyRightShft:
		k.shift = e.Value != 0
		return Press{}, false
	case KeyCapsLock:
		if e.Value == 1 {
			k.caps = !k.caps
		}
		return Press{}, false
	}
	if e.Value == 0 { // release
		return Press{}, false
	}
	p := Press{Code: e.Code}
	if rs, ok := usLayout[e.Code]; ok {
		shift := k.shift
		if k.caps && rs[0] >= 'a' && rs[0] <= 'z' {
			shift = !shift
		}
		if shift {
			p.Rune = rs[1]
		} else {
			p.Rune = rs[0]
		}
	}
	return p, true
}

// String names an event for logs.
func (e Event) String() string {
	return fmt.Sprintf("type %d code %d value %d", e.Type, e.Code, e.Value)
}
