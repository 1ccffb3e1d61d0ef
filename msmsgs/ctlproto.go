package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/msmsgs/client"
)

// The control protocol: the ctl client connects to the unix socket and
// writes one request line, a JSON object {"args":["send","bob@x","hi"]}.
// The daemon answers with JSON lines: {"ok":true,"result":...} or
// {"ok":false,"error":"..."}; for "events" a stream of
// {"ok":true,"event":{...}} lines.

// maxRequest bounds one request line.
const maxRequest = 8192

// request is one control request.
type request struct {
	Args []string `json:"args"`
}

// reply is one control reply line.
type reply struct {
	OK     bool          `json:"ok"`
	Result any           `json:"result,omitempty"`
	Event  *client.Event `json:"event,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// rawReply is reply as read by the ctl client.
type rawReply struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Event  json.RawMessage `json:"event,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// commandArity gives the usage and argument count bounds of each command.
var commandArity = map[string]struct {
	usage    string
	min, max int // arguments after the command and its flags; max -1 = any
}{
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

// parseRequest decodes and checks one request line.
func parseRequest(line []byte) (request, error) {
	var r request
	if len(line) > maxRequest {
		return r, fmt.Errorf("ctl: request of %d bytes, limit %d", len(line), maxRequest)
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("ctl: bad request: %w", err)
	}
	if len(r.Args) == 0 {
		return r, errors.New("ctl: empty request")
	}
	if len(r.Args) > 256 {
		return r, errors.New("ctl: too many arguments")
	}
	if _, ok := commandArity[r.Args[0]]; !ok {
		return r, errors.New(text("err.unknown-cmd", r.Args[0]))
	}
	return r, nil
}

// matchEvent reports whether e matches type typ and every KEY=VALUE filter
// (keys are the event's JSON field names; values compare case-insensitively).
func matchEvent(e client.Event, typ string, filters []string) bool {
	if typ != "any" && e.Type != typ {
		return false
	}
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		var got string
		switch k {
		case "account":
			got = e.Account
		case "name":
			got = e.Name
		case "status":
			got = e.Status
		case "text":
			got = e.Text
		case "conversation":
			got = e.Conversation
		case "reason":
			got = e.Reason
		case "cookie":
			got = strconv.FormatUint(uint64(e.Cookie), 10)
		case "file":
			got = e.File
		default:
			return false
		}
		if !strings.EqualFold(got, v) {
			if k == "status" {
				if st, err := parseStatus(v); err == nil && string(st) == got {
					continue
				}
			}
			return false
		}
	}
	return true
}

// validFilters checks KEY=VALUE filters.
func validFilters(fs []string) error {
	for _, f := range fs {
		k, _, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return fmt.Errorf("filter %q: want KEY=VALUE", f)
		case k != "account" && k != "name" && k != "status" && k != "text" && k != "conversation" && k != "reason" && k != "cookie" && k != "file":
			return fmt.Errorf("filter %q: key must be account, name, status, text, conversation, reason, cookie or file", f)
		}
	}
	return nil
}
