package msnp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NoTrID is the TrID of a command line that carries no transaction id.
const NoTrID = -1

// MaxTrID is the largest transaction id (an unsigned 32-bit number on the wire).
const MaxTrID = 1<<32 - 1

// Sentinel errors wrapped by parse and read errors; callers branch with errors.Is.
var (
	// ErrMalformed is wrapped by every syntax error in a line or message.
	ErrMalformed = errors.New("msnp: malformed input")
	// ErrLineTooLong is wrapped when a command line exceeds the reader's MaxLine.
	ErrLineTooLong = errors.New("msnp: line too long")
	// ErrPayloadTooLarge is wrapped when a payload length exceeds MaxPayload.
	ErrPayloadTooLarge = errors.New("msnp: payload too large")
)

// Command is one MSNP command line and, for payload commands, its payload.
type Command struct {
	// Name is the command: three upper-case letters ("USR") or a three-digit
	// error code ("911").
	Name string
	// TrID is the transaction id, or NoTrID when the line has none.
	TrID int
	// Args are the remaining space-separated arguments. For a payload command
	// the trailing length argument is not included.
	Args []string
	// Payload is the payload of a payload command (see IsPayloadCommand).
	Payload []byte
}

// payloadCommands carry a byte length as their last argument, followed by
// that many bytes of payload.
var payloadCommands = map[string]bool{
	"MSG": true, "QRY": true, "NOT": true, "IPG": true,
	"GCF": true, "UBX": true, "UUX": true, "ADL": true, "RML": true,
	"UUM": true, "UBM": true, "FQY": true, "UUN": true, "UBN": true,
}

// noTrIDCommands never carry a transaction id, even when their first argument
// is a number (RNG session id, BPR version, QNG seconds, MSNP8 LSG group id).
var noTrIDCommands = map[string]bool{
	"RNG": true, "BPR": true, "QNG": true, "LSG": true, "NOT": true, "IPG": true,
	"NLN": true, "FLN": true, "JOI": true, "BYE": true, "OUT": true,
}

// IsPayloadCommand reports whether name is a command whose last argument is
// the length of a payload that follows the line.
func IsPayloadCommand(name string) bool { return payloadCommands[name] }

// IsErrorCode reports whether name is a numeric error reply such as "911".
func IsErrorCode(name string) bool {
	return len(name) == 3 && isDigit(name[0]) && isDigit(name[1]) && isDigit(name[2])
}

// New returns a command with the given name, transaction id and arguments.
func New(name string, trID int, args ...string) Command {
	return Command{Name: name, TrID: trID, Args: args}
}

// Arg returns argument i, or "" when there are fewer arguments.
func (c Command) Arg(i int) string {
	if i < 0 || i >= len(c.Args) {
		return ""
	}
	return c.Args[i]
}

// IsError reports whether c is a numeric error reply.
func (c Command) IsError() bool { return IsErrorCode(c.Name) }

// Err returns a *ServerError for a numeric error reply, else nil.
func (c Command) Err() error {
	if !c.IsError() {
		return nil
	}
	n, _ := strconv.Atoi(c.Name)
	return &ServerError{Code: Code(n), TrID: c.TrID}
}

// String formats c as its wire line without CRLF and without the payload.
func (c Command) String() string {
	b, err := AppendCommand(nil, Command{Name: c.Name, TrID: c.TrID, Args: c.Args, Payload: c.Payload})
	if err != nil {
		return fmt.Sprintf("%s %d %q", c.Name, c.TrID, c.Args)
	}
	return string(b[:len(b)-len(c.Payload)-2])
}

// ParseLine parses one command line (without the trailing CRLF; a trailing
// "\r\n" or "\n" is tolerated). For a payload command the length argument
// is returned separately: Args exclude it and payloadLen holds it; for
// other commands payloadLen is -1. Use ParseLine for lines without payload
// and ReadCommand to read payloads.
func ParseLine(line string) (Command, error) {
	c, n, err := parseLine(line)
	if err != nil {
		return Command{}, err
	}
	if n >= 0 {
		c.Payload = nil
	}
	return c, nil
}

// ParseLineLen is ParseLine that also returns the payload length of a payload
// command (-1 for other commands).
func ParseLineLen(line string) (Command, int, error) { return parseLine(line) }

func parseLine(line string) (Command, int, error) {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	for i := 0; i < len(line); i++ {
		if b := line[i]; b < 0x20 || b == 0x7f {
			return Command{}, -1, fmt.Errorf("%w: control byte 0x%02x in line", ErrMalformed, b)
		}
	}
	toks := strings.Fields(line)
	if len(toks) == 0 {
		return Command{}, -1, fmt.Errorf("%w: empty line", ErrMalformed)
	}
	name := toks[0]
	if !validName(name) {
		return Command{}, -1, fmt.Errorf("%w: bad command name %q", ErrMalformed, trunc(name))
	}
	args := toks[1:]
	c := Command{Name: name, TrID: NoTrID}
	plen := -1
	// The server acknowledges a challenge answer with a bare "QRY trid";
	// only the client's "QRY trid product-id length" carries a payload.
	if payloadCommands[name] && !(name == "QRY" && len(args) == 1) {
		if len(args) == 0 {
			return Command{}, -1, fmt.Errorf("%w: %s without payload length", ErrMalformed, name)
		}
		n, err := parseUint(args[len(args)-1], 1<<30)
		if err != nil {
			return Command{}, -1, fmt.Errorf("%w: %s payload length %q", ErrMalformed, name, trunc(args[len(args)-1]))
		}
		plen = n
		args = args[:len(args)-1]
	}
	if len(args) > 0 && !noTrIDCommands[name] && allDigits(args[0]) {
		n, err := parseUint(args[0], MaxTrID)
		if err != nil {
			return Command{}, -1, fmt.Errorf("%w: transaction id %q out of range", ErrMalformed, trunc(args[0]))
		}
		c.TrID = n
		args = args[1:]
	}
	if len(args) > 0 {
		c.Args = args
	}
	return c, plen, nil
}

// AppendCommand appends the wire form of c to dst: the line with CRLF and,
// for payload commands, the length argument and the payload.
func AppendCommand(dst []byte, c Command) ([]byte, error) {
	if !validName(c.Name) {
		return dst, fmt.Errorf("msnp: format: bad command name %q", trunc(c.Name))
	}
	if c.TrID < NoTrID || c.TrID > MaxTrID {
		return dst, fmt.Errorf("msnp: format %s: transaction id %d out of range", c.Name, c.TrID)
	}
	pc := payloadCommands[c.Name] && !bareQRY(c)
	if !pc && c.Payload != nil {
		return dst, fmt.Errorf("msnp: format %s: command takes no payload", c.Name)
	}
	for _, a := range c.Args {
		if err := validArg(a); err != nil {
			return dst, fmt.Errorf("msnp: format %s: %w", c.Name, err)
		}
	}
	dst = append(dst, c.Name...)
	if c.TrID != NoTrID {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(c.TrID), 10)
	}
	for _, a := range c.Args {
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	if pc {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(len(c.Payload)), 10)
	}
	dst = append(dst, '\r', '\n')
	dst = append(dst, c.Payload...)
	return dst, nil
}

// bareQRY reports whether c is the server's challenge acknowledgement:
// QRY without payload and with one token after the name (parseLine reads
// any such line as bare, whether the token is a transaction id or not).
func bareQRY(c Command) bool {
	if c.Name != "QRY" || c.Payload != nil {
		return false
	}
	n := len(c.Args)
	if c.TrID != NoTrID {
		n++
	}
	return n == 1
}

func validName(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if !(s[i] >= 'A' && s[i] <= 'Z') && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func validArg(a string) error {
	if a == "" {
		return errors.New("empty argument")
	}
	for i := 0; i < len(a); i++ {
		if b := a[i]; b <= 0x20 || b == 0x7f {
			return fmt.Errorf("argument %q contains space or control byte (URL-encode it)", trunc(a))
		}
	}
	return nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// parseUint parses a decimal number of at most max without sign or spaces.
func parseUint(s string, max int) (int, error) {
	if !allDigits(s) || len(s) > 10 {
		return 0, errors.New("not a number")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > uint64(max) {
		return 0, errors.New("out of range")
	}
	return int(n), nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
