package transfer

import (
	"errors"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/msnftp"
)

// parsePortRange parses "6891-6900" or "6891" ("" is the default range).
func parsePortRange(s string, lang *msgslang.Catalog) (int, int, error) {
	if s == "" {
		return msnftp.DefaultPortLow, msnftp.DefaultPortHigh, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
		return 0, 0, errors.New(lang.Text("err.ft-ports", s, "want LOW-HIGH or PORT"))
	}
	return l, h, nil
}

// ParseSize parses a byte count with an optional K, M or G (binary) suffix;
// "" is 0.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("want a number of bytes, optionally with K, M or G")
	}
	return n * mult, nil
}
