package msnp

import (
	"fmt"
	"strconv"
)

// Status is a presence state as sent in CHG, ILN and NLN.
type Status string

// Presence states.
const (
	StatusOnline      Status = "NLN"
	StatusBusy        Status = "BSY"
	StatusIdle        Status = "IDL"
	StatusBeRightBack Status = "BRB"
	StatusAway        Status = "AWY"
	StatusOnThePhone  Status = "PHN"
	StatusOutToLunch  Status = "LUN"
	StatusHidden      Status = "HDN"
	StatusOffline     Status = "FLN"
)

var statusText = map[Status]string{
	StatusOnline:      "Online",
	StatusBusy:        "Busy",
	StatusIdle:        "Idle",
	StatusBeRightBack: "Be Right Back",
	StatusAway:        "Away",
	StatusOnThePhone:  "On The Phone",
	StatusOutToLunch:  "Out To Lunch",
	StatusHidden:      "Appear Offline",
	StatusOffline:     "Offline",
}

// Statuses lists every status in display order.
var Statuses = []Status{StatusOnline, StatusBusy, StatusIdle, StatusBeRightBack, StatusAway,
	StatusOnThePhone, StatusOutToLunch, StatusHidden, StatusOffline}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusText[s]; return ok }

// Settable reports whether a client may set s with CHG (every status but FLN).
func (s Status) Settable() bool { return s.Valid() && s != StatusOffline }

// Text returns the English display name ("Busy").
func (s Status) Text() string {
	if t, ok := statusText[s]; ok {
		return t
	}
	return string(s)
}

// ParseStatus parses a three-letter status code.
func ParseStatus(s string) (Status, error) {
	if st := Status(s); st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("msnp: unknown status %q (use one of NLN BSY IDL BRB AWY PHN LUN HDN FLN)", trunc(s))
}

// List is one of the four contact lists.
type List string

// Contact lists.
const (
	ForwardList List = "FL" // people you watch (your contacts)
	AllowList   List = "AL" // people allowed to see you
	BlockList   List = "BL" // people blocked from seeing and contacting you
	ReverseList List = "RL" // people who have you on their FL
)

// Lists lists the contact lists in bit order.
var Lists = []List{ForwardList, AllowList, BlockList, ReverseList}

// Bit returns the list's bit in an LST list mask (FL 1, AL 2, BL 4, RL 8), or 0.
func (l List) Bit() int {
	switch l {
	case ForwardList:
		return 1
	case AllowList:
		return 2
	case BlockList:
		return 4
	case ReverseList:
		return 8
	}
	return 0
}

// Valid reports whether l is a known list.
func (l List) Valid() bool { return l.Bit() != 0 }

// ParseList parses FL, AL, BL or RL.
func ParseList(s string) (List, error) {
	if l := List(s); l.Valid() {
		return l, nil
	}
	return "", fmt.Errorf("msnp: unknown list %q (use FL, AL, BL or RL)", trunc(s))
}

// ListsFromMask returns the lists whose bits are set in an LST mask.
func ListsFromMask(mask int) []List {
	var ls []List
	for _, l := range Lists {
		if mask&l.Bit() != 0 {
			ls = append(ls, l)
		}
	}
	return ls
}

// ParseListMask parses the decimal LST mask argument (0..15).
func ParseListMask(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 15 || !allDigits(s) {
		return 0, fmt.Errorf("%w: list mask %q", ErrMalformed, trunc(s))
	}
	return n, nil
}

// AckMode is the acknowledgement mode of a switchboard MSG sent by a client.
type AckMode string

// Acknowledgement modes.
const (
	AckNone     AckMode = "U" // no ACK or NAK
	AckNegative AckMode = "N" // NAK only on failure
	AckFull     AckMode = "A" // ACK on delivery, NAK on failure
	AckData     AckMode = "D" // data message: ACK or NAK (MSNP9+ P2P)
)

// Valid reports whether m is a known mode.
func (m AckMode) Valid() bool {
	return m == AckNone || m == AckNegative || m == AckFull || m == AckData
}

// Privacy modes set with BLP: who may see you when not on any list.
const (
	PrivacyAllow = "AL" // everyone not on BL may see you
	PrivacyBlock = "BL" // only people on AL may see you
)
