package voice

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Application-GUID and the other constants of a voice invitation.
const (
	GUID            = "{02D3C01F-BF30-4825-A83A-DE7AF41648AA}"
	AppName         = "an audio conversation"
	SessionProtocol = "SM1"
	// ContextInvite is the Context-Data of an INVITE: audio requested, audio
	// capable. SIP_V (video) is not offered.
	ContextInvite = "Requested:SIP_A,;Capabilities:SIP_A,;"
	// ContextAccept is the Context-Data of an ACCEPT.
	ContextAccept = "Requested:SIP_A,;"
)

// Invitation-Command values.
const (
	CmdInvite = "INVITE"
	CmdAccept = "ACCEPT"
	CmdCancel = "CANCEL"
)

// Cancel-Code values. Windows Messenger sends USER_CANCEL when the inviter
// withdraws, REJECT when the invitee declines, TIMEOUT when the invitation
// or the connection timed out and FAIL when the connection could not be made.
const (
	CancelUser         = "USER_CANCEL"
	CancelReject       = "REJECT"
	CancelTimeout      = "TIMEOUT"
	CancelFail         = "FAIL"
	CancelNotInstalled = "REJECT_NOT_INSTALLED"
	CancelOutband      = "OUTBANDCANCEL"
	// CancelBusy declines an invitation while another call runs. Windows
	// Messenger shows a REJECT from a contact in a call as a declined call;
	// we send REJECT too, so old clients show the usual text.
	CancelBusy = CancelReject
)

// Bounds on an invitation body.
const (
	MaxBody   = 4096 // bytes
	MaxFields = 32
	MaxValue  = 512 // bytes per field value
)

// ErrMalformed wraps every parse error.
var ErrMalformed = errors.New("voice: malformed invitation")

// ErrNotVoice is returned by Parse for an INVITE of another application
// (file transfer, NetMeeting); the caller passes it on to whoever handles it.
var ErrNotVoice = errors.New("voice: not a voice invitation")

// Invitation is one text/x-msmsgsinvite body of the voice exchange. Fields
// holds every field in wire order (unknown ones included) so that a parsed
// invitation marshals back to the same fields; the typed members are
// decoded from it.
type Invitation struct {
	Command    string // CmdInvite, CmdAccept or CmdCancel
	Cookie     uint32 // Invitation-Cookie, non-zero
	SessionID  string // Session-ID, "{GUID}"; may be empty on ACCEPT and CANCEL
	ConnType   string // Conn-Type: Direct-Connect, IP-Restrict-NAT, Symmetric-NAT, Firewall
	CancelCode string // CANCEL only
	// Addr is IP-Address (or IP-Address-Enc64): where the sender listens for
	// the SIP INVITE. Valid only on ACCEPT, zero when absent.
	Addr   netip.AddrPort
	Fields msnp.Header
}

// Parse decodes an invitation body. An INVITE of another application
// returns an error wrapping ErrNotVoice; ACCEPT and CANCEL carry no GUID
// and are matched by cookie.
func Parse(body []byte) (*Invitation, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(body), MaxBody)
	}
	h, err := msnp.ParseHeaderBlock(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return FromFields(h)
}

// FromFields decodes invitation fields already split by the MSNP layer
// (client.InviteFunc hands them over that way).
func FromFields(h msnp.Header) (*Invitation, error) {
	if len(h) > MaxFields {
		return nil, fmt.Errorf("%w: %d fields, limit %d", ErrMalformed, len(h), MaxFields)
	}
	seen := map[string]bool{}
	for _, f := range h {
		if len(f.Value) > MaxValue {
			return nil, fmt.Errorf("%w: field %s is %d bytes, limit %d", ErrMalformed, f.Key, len(f.Value), MaxValue)
		}
		if f.Key == "" || strings.ContainsAny(f.Key, ": \t\r\n") || strings.ContainsAny(f.Value, "\r\n") {
			return nil, fmt.Errorf("%w: field name %q", ErrMalformed, trunc(f.Key))
		}
		k := strings.ToLower(f.Key)
		if seen[k] {
			return nil, fmt.Errorf("%w: field %s appears twice", ErrMalformed, f.Key)
		}
		seen[k] = true
	}
	inv := &Invitation{Fields: append(msnp.Header(nil), h...)}
	inv.Command = strings.ToUpper(h.Get("Invitation-Command"))
	switch inv.Command {
	case CmdInvite, CmdAccept, CmdCancel:
	case "":
		return nil, fmt.Errorf("%w: no Invitation-Command", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: Invitation-Command %q, want INVITE, ACCEPT or CANCEL", ErrMalformed, trunc(inv.Command))
	}
	if inv.Command == CmdInvite {
		if g := h.Get("Application-GUID"); !strings.EqualFold(g, GUID) {
			return nil, fmt.Errorf("%w: Application-GUID %q", ErrNotVoice, trunc(g))
		}
	}
	c := h.Get("Invitation-Cookie")
	n, err := strconv.ParseUint(c, 10, 32)
	if err != nil || n == 0 || c[0] == '+' || (len(c) > 1 && c[0] == '0') {
		return nil, fmt.Errorf("%w: Invitation-Cookie %q, want a decimal number 1-4294967295", ErrMalformed, trunc(c))
	}
	inv.Cookie = uint32(n)
	inv.SessionID = h.Get("Session-ID")
	if inv.SessionID != "" && !validGUID(inv.SessionID) {
		return nil, fmt.Errorf("%w: Session-ID %q, want {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}", ErrMalformed, trunc(inv.SessionID))
	}
	inv.ConnType = h.Get("Conn-Type")
	switch inv.Command {
	case CmdInvite:
		if inv.SessionID == "" {
			return nil, fmt.Errorf("%w: INVITE without Session-ID", ErrMalformed)
		}
		if p := h.Get("Session-Protocol"); p != SessionProtocol {
			return nil, fmt.Errorf("%w: Session-Protocol %q, want %s", ErrMalformed, trunc(p), SessionProtocol)
		}
		if cd := h.Get("Context-Data"); !requestsAudio(cd) {
			return nil, fmt.Errorf("%w: Context-Data %q does not request SIP_A (audio)", ErrMalformed, trunc(cd))
		}
	case CmdAccept:
		if err := inv.decodeAddr(h); err != nil {
			return nil, err
		}
	case CmdCancel:
		inv.CancelCode = h.Get("Cancel-Code")
		if strings.ContainsAny(inv.CancelCode, " \t") || len(inv.CancelCode) > 64 {
			return nil, fmt.Errorf("%w: Cancel-Code %q", ErrMalformed, trunc(inv.CancelCode))
		}
	}
	return inv, nil
}

func (inv *Invitation) decodeAddr(h msnp.Header) error {
	plain, enc := h.Get("IP-Address"), h.Get("IP-Address-Enc64")
	if enc != "" {
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return fmt.Errorf("%w: IP-Address-Enc64 %q is not base64", ErrMalformed, trunc(enc))
		}
		if plain == "" {
			plain = string(b)
		} else if string(b) != plain {
			return fmt.Errorf("%w: IP-Address-Enc64 says %q, IP-Address %q", ErrMalformed, trunc(string(b)), trunc(plain))
		}
	}
	if plain == "" {
		return nil
	}
	ap, err := netip.ParseAddrPort(plain)
	if err != nil {
		return fmt.Errorf("%w: IP-Address %q, want ip:port", ErrMalformed, trunc(plain))
	}
	if err := checkAddr(ap); err != nil {
		return fmt.Errorf("%w: IP-Address %s: %w", ErrMalformed, plain, err)
	}
	inv.Addr = ap
	return nil
}

// checkAddr accepts a unicast host address with a port.
func checkAddr(ap netip.AddrPort) error {
	a := ap.Addr()
	switch {
	case ap.Port() == 0:
		return errors.New("port 0")
	case a.IsUnspecified(), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return errors.New("not a host address")
	case a.Zone() != "":
		return errors.New("zoned address")
	}
	return nil
}

func requestsAudio(cd string) bool {
	for _, part := range strings.Split(cd, ";") {
		k, v, ok := strings.Cut(part, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "Requested") {
			for _, c := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(c), "SIP_A") {
					return true
				}
			}
		}
	}
	return false
}

func validGUID(s string) bool {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' {
		return false
	}
	for i := 1; i < 37; i++ {
		c := s[i]
		switch i {
		case 9, 14, 19, 24:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Marshal returns the invitation body: its fields as "Key: Value" lines and
// the closing blank line, as Windows Messenger sends it.
func (inv *Invitation) Marshal() ([]byte, error) {
	b, err := inv.Fields.AppendTo(nil)
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	return append(b, '\r', '\n'), nil
}

// Message wraps the invitation in a text/x-msmsgsinvite MSG payload.
func (inv *Invitation) Message() (*msnp.Message, error) { return msnp.NewInviteMessage(inv.Fields) }

// NewInvite builds the INVITE that opens a voice conversation.
func NewInvite(cookie uint32, sessionID string) *Invitation {
	h := msnp.Header{
		{Key: "Application-Name", Value: AppName},
		{Key: "Application-GUID", Value: GUID},
		{Key: "Session-Protocol", Value: SessionProtocol},
		{Key: "Context-Data", Value: ContextInvite},
		{Key: "Invitation-Command", Value: CmdInvite},
		{Key: "Avm-Support", Value: "7"},
		{Key: "Avm-Request", Value: "2"},
		{Key: "Invitation-Cookie", Value: strconv.FormatUint(uint64(cookie), 10)},
		{Key: "Session-ID", Value: sessionID},
		{Key: "Conn-Type", Value: "Direct-Connect"},
		{Key: "Sip-Capability", Value: "1"},
	}
	return &Invitation{Command: CmdInvite, Cookie: cookie, SessionID: sessionID, ConnType: "Direct-Connect", Fields: h}
}

// NewAccept builds an ACCEPT carrying addr, where we listen for SIP.
func NewAccept(cookie uint32, sessionID string, addr netip.AddrPort) *Invitation {
	ip := addr.String()
	h := msnp.Header{
		{Key: "Invitation-Command", Value: CmdAccept},
		{Key: "Context-Data", Value: ContextAccept},
		{Key: "Invitation-Cookie", Value: strconv.FormatUint(uint64(cookie), 10)},
		{Key: "Session-ID", Value: sessionID},
		{Key: "Session-Protocol", Value: SessionProtocol},
		{Key: "Conn-Type", Value: "Direct-Connect"},
		{Key: "Sip-Capability", Value: "1"},
		{Key: "Launch-Application", Value: "TRUE"},
		{Key: "Request-Data", Value: "IP-Address:"},
		{Key: "IP-Address", Value: ip},
		{Key: "IP-Address-Enc64", Value: base64.StdEncoding.EncodeToString([]byte(ip))},
	}
	return &Invitation{Command: CmdAccept, Cookie: cookie, SessionID: sessionID, ConnType: "Direct-Connect", Addr: addr, Fields: h}
}

// NewCancel builds a CANCEL with a Cancel-Code.
func NewCancel(cookie uint32, sessionID, code string) *Invitation {
	h := msnp.Header{
		{Key: "Invitation-Command", Value: CmdCancel},
		{Key: "Cancel-Code", Value: code},
		{Key: "Invitation-Cookie", Value: strconv.FormatUint(uint64(cookie), 10)},
	}
	if sessionID != "" {
		h = append(h, msnp.Field{Key: "Session-ID", Value: sessionID})
	}
	return &Invitation{Command: CmdCancel, Cookie: cookie, SessionID: sessionID, CancelCode: code, Fields: h}
}

// NewCookie returns a random non-zero Invitation-Cookie.
func NewCookie() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if c := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); c != 0 && c < 1<<31 {
			return c
		}
	}
}

// NewSessionID returns a random "{GUID}" for Session-ID.
func NewSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("{%08X-%04X-%04X-%04X-%012X}", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
