// Package ctlproto is the control protocol between `msmsgs ctl` and the
// msmsgs daemon: the ctl client connects to the daemon's unix socket and
// writes one request line, a JSON object {"args":["send","bob@x","hi"]}.
// The daemon answers with JSON lines: {"ok":true,"result":...} or
// {"ok":false,"error":"..."}; for "events" a stream of
// {"ok":true,"event":{...}} lines.
package ctlproto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// MaxRequest bounds one request line.
const MaxRequest = 8192

// maxArgs bounds the arguments of one request.
const maxArgs = 256

// Request is one control request.
type Request struct {
	Args []string `json:"args"`
}

// Reply is one control reply line.
type Reply struct {
	OK     bool          `json:"ok"`
	Result any           `json:"result,omitempty"`
	Event  *client.Event `json:"event,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// RawReply is Reply as read by the ctl client.
type RawReply struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Event  json.RawMessage `json:"event,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Spec is the usage and argument count bounds of one command.
type Spec struct {
	Usage    string
	Min, Max int // arguments after the command and its flags; Max -1 = any
}

// builtin are the commands of the daemon itself (the file transfer
// commands included). Components that add commands register them with the
// daemon; the ctl client forwards any command the daemon knows.
var builtin = map[string]Spec{
	"help":          {"help", 0, 0},
	"wait-signin":   {"wait-signin [-timeout D]", 0, 0},
	"status":        {"status [set STATUS]", 0, 2},
	"name":          {"name NAME...", 1, -1},
	"contacts":      {"contacts", 0, 0},
	"conversations": {"conversations", 0, 0},
	"add":           {"add EMAIL", 1, 1},
	"remove":        {"remove EMAIL", 1, 1},
	"block":         {"block EMAIL", 1, 1},
	"unblock":       {"unblock EMAIL", 1, 1},
	"privacy":       {"privacy allow|block", 1, 1},
	"send":          {"send EMAIL TEXT...", 2, -1},
	"typing":        {"typing EMAIL", 1, 1},
	"sendto":        {"sendto CONV TEXT...", 2, -1},
	"invite":        {"invite CONV EMAIL", 2, 2},
	"leave":         {"leave CONV", 1, 1},
	"events":        {"events [-since SEQ]", 0, 0},
	"wait":          {"wait [-timeout D] [-since SEQ] TYPE [KEY=VALUE...]", 1, -1},
	"sendfile":      {"sendfile [-no-wait] [-name NAME] EMAIL PATH", 2, 2},
	"accept":        {"accept COOKIE", 1, 1},
	"reject":        {"reject COOKIE", 1, 1},
	"cancel":        {"cancel COOKIE", 1, 1},
	"transfers":     {"transfers", 0, 0},
}

// Lookup returns the built-in command name: its usage and argument bounds.
func Lookup(name string) (Spec, bool) {
	sp, ok := builtin[name]
	return sp, ok
}

// MaxName bounds a command name.
const MaxName = 32

// ValidName reports whether name can name a command: a lowercase word of
// letters and hyphens of at most MaxName bytes. The built-in commands are
// such words, the daemon registers no other, and the ctl client sends only
// such words, so it can forward a command that a component registered
// without knowing it.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxName {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// ParseRequest decodes and checks one request line: known reports whether
// a command exists; l gives the error texts.
func ParseRequest(line []byte, known func(string) bool, l *msgslang.Catalog) (Request, error) {
	var r Request
	if len(line) > MaxRequest {
		return r, fmt.Errorf("ctl: request of %d bytes, limit %d", len(line), MaxRequest)
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("ctl: bad request: %w", err)
	}
	if len(r.Args) == 0 {
		return r, errors.New("ctl: empty request")
	}
	if len(r.Args) > maxArgs {
		return r, errors.New("ctl: too many arguments")
	}
	if !known(r.Args[0]) {
		return r, errors.New(l.Text("err.unknown-cmd", r.Args[0]))
	}
	return r, nil
}

// ReadLine reads one line of at most max bytes.
func ReadLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("ctl: read request: %w", err)
		}
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("ctl: request longer than %d bytes", max)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// filterKeys are the event fields wait filters on.
func filterKey(e client.Event, k string) (string, bool) {
	switch k {
	case "account":
		return e.Account, true
	case "name":
		return e.Name, true
	case "status":
		return e.Status, true
	case "text":
		return e.Text, true
	case "conversation":
		return e.Conversation, true
	case "reason":
		return e.Reason, true
	case "cookie":
		return strconv.FormatUint(uint64(e.Cookie), 10), true
	case "file":
		return e.File, true
	}
	return "", false
}

// MatchEvent reports whether e matches type typ and every KEY=VALUE filter
// (keys are the event's JSON field names; values compare case-insensitively).
func MatchEvent(e client.Event, typ string, filters []string) bool {
	if typ != "any" && e.Type != typ {
		return false
	}
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		got, ok := filterKey(e, k)
		if !ok {
			return false
		}
		if !strings.EqualFold(got, v) {
			if k == "status" {
				if st, ok := statusWord(v); ok && string(st) == got {
					continue
				}
			}
			return false
		}
	}
	return true
}

// ValidFilters checks KEY=VALUE filters.
func ValidFilters(fs []string) error {
	for _, f := range fs {
		k, _, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("filter %q: want KEY=VALUE", f)
		}
		if _, known := filterKey(client.Event{}, k); !known {
			return fmt.Errorf("filter %q: key must be account, name, status, text, conversation, reason, cookie or file", f)
		}
	}
	return nil
}

// statusWord accepts a word (busy) or a code (BSY).
func statusWord(s string) (msnp.Status, bool) {
	switch strings.ToLower(s) {
	case "online":
		return msnp.StatusOnline, true
	case "busy":
		return msnp.StatusBusy, true
	case "idle":
		return msnp.StatusIdle, true
	case "brb":
		return msnp.StatusBeRightBack, true
	case "away":
		return msnp.StatusAway, true
	case "phone":
		return msnp.StatusOnThePhone, true
	case "lunch":
		return msnp.StatusOutToLunch, true
	case "hidden", "invisible", "appear-offline":
		return msnp.StatusHidden, true
	}
	if st := msnp.Status(strings.ToUpper(s)); st.Settable() {
		return st, true
	}
	return "", false
}

// ParseStatus accepts a status word (busy) or code (BSY); l gives the
// error text.
func ParseStatus(s string, l *msgslang.Catalog) (msnp.Status, error) {
	if st, ok := statusWord(s); ok {
		return st, nil
	}
	return "", errors.New(l.Text("err.status", s))
}

// ParseCookie parses a file transfer cookie argument.
func ParseCookie(s string, l *msgslang.Catalog) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errors.New(l.Text("err.ft-bad-cookie", s))
	}
	return uint32(n), nil
}
