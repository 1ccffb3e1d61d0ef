package msnftp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Invitation wire constants.
const (
	// ContentType is the MIME Content-Type of invitation messages.
	ContentType = "text/x-msmsgsinvite; charset=UTF-8"
	// FileTransferGUID is the Application-GUID of MSNFTP file transfer.
	FileTransferGUID = "{5D3E02AB-6190-11d3-BBBB-00C04F795683}"
	// FileTransferName is the Application-Name Windows Messenger sends.
	FileTransferName = "File Transfer"

	// MaxBodySize bounds an invitation body accepted by ParseInvitation.
	MaxBodySize = 8 << 10
	// MaxFields bounds the number of fields in one invitation body.
	MaxFields = 64
	// MaxFieldSize bounds one "Name: value" line.
	MaxFieldSize = 2 << 10
)

// Command is the Invitation-Command of an invitation message.
type Command string

// Invitation commands.
const (
	CommandInvite Command = "INVITE"
	CommandAccept Command = "ACCEPT"
	CommandCancel Command = "CANCEL"
)

// CancelCode is the Cancel-Code of a CANCEL invitation.
type CancelCode string

// Cancel codes used by Windows Messenger.
const (
	// CancelReject: the receiver declined the file.
	CancelReject CancelCode = "REJECT"
	// CancelRejectNotInstalled: the invitee has no such application.
	CancelRejectNotInstalled CancelCode = "REJECT_NOT_INSTALLED"
	// CancelTimeout: the invitation was not answered in time.
	CancelTimeout CancelCode = "TIMEOUT"
	// CancelFTTimeout: the MSNFTP connection could not be made in time.
	CancelFTTimeout CancelCode = "FTTIMEOUT"
	// CancelOutbandCancel: the user cancelled before the transfer started.
	CancelOutbandCancel CancelCode = "OUTBANDCANCEL"
	// CancelFail: the transfer failed for another reason.
	CancelFail CancelCode = "FAIL"
)

// Invitation is one text/x-msmsgsinvite message body of a file transfer
// negotiation. Fields that a message does not carry are zero.
type Invitation struct {
	Command Command // Invitation-Command
	Cookie  uint32  // Invitation-Cookie: ties the messages of one negotiation

	// INVITE.
	AppName      string // Application-Name
	AppGUID      string // Application-GUID
	FileName     string // Application-File, as the peer sent it (not safe!)
	FileSize     int64  // Application-FileSize
	Connectivity string // "Y", "N" or "" (absent)

	// ACCEPT.
	IPAddress         string // IP-Address the client connects to
	IPAddressInternal string // IP-Address-Internal, optional
	Port              int    // Port
	PortX             int    // PortX, optional second port
	AuthCookie        uint32 // AuthCookie for USR
	HasAuthCookie     bool   // AuthCookie was present
	SenderConnect     bool   // Sender-Connect: TRUE (the receiver listens)
	LaunchApplication string // Launch-Application, usually FALSE
	RequestData       string // Request-Data, usually "IP-Address:"

	// CANCEL.
	CancelCode CancelCode // Cancel-Code
}

// ErrInvitation is wrapped by every invitation parse error.
var ErrInvitation = errors.New("invalid invitation")

// IsFileTransfer reports whether inv is an INVITE for MSNFTP file transfer.
func (inv *Invitation) IsFileTransfer() bool {
	return inv.Command == CommandInvite && strings.EqualFold(inv.AppGUID, FileTransferGUID)
}

// NewCookie returns a random non-zero cookie for Invitation-Cookie or AuthCookie.
func NewCookie() uint32 {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		if c := binary.LittleEndian.Uint32(b[:]) & 0x7fffffff; c != 0 {
			return c
		}
	}
}

// NewOffer returns the INVITE that offers a file of the given base name and
// size, with a fresh Invitation-Cookie.
func NewOffer(name string, size int64) (*Invitation, error) {
	if name == "" || !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\x00") {
		return nil, fmt.Errorf("msnftp: offer: file name %q must be non-empty UTF-8 without line breaks", name)
	}
	if size < 0 {
		return nil, fmt.Errorf("msnftp: offer: negative file size %d", size)
	}
	return &Invitation{
		Command:  CommandInvite,
		Cookie:   NewCookie(),
		AppName:  FileTransferName,
		AppGUID:  FileTransferGUID,
		FileName: name,
		FileSize: size,
	}, nil
}

// ReceiverAccept returns the receiver's ACCEPT for the offer inv.
func (inv *Invitation) ReceiverAccept() *Invitation {
	return &Invitation{
		Command:           CommandAccept,
		Cookie:            inv.Cookie,
		LaunchApplication: "FALSE",
		RequestData:       "IP-Address:",
	}
}

// Cancel returns a CANCEL with code for the negotiation of inv.
func (inv *Invitation) Cancel(code CancelCode) *Invitation {
	return &Invitation{Command: CommandCancel, Cookie: inv.Cookie, CancelCode: code}
}

// Header returns the invitation's fields in the order Windows Messenger
// sends them, for msnp.NewInviteMessage.
func (inv *Invitation) Header() msnp.Header {
	var h msnp.Header
	f := func(name, value string) { h = append(h, msnp.Field{Key: name, Value: value}) }
	if inv.AppName != "" {
		f("Application-Name", inv.AppName)
	}
	if inv.AppGUID != "" {
		f("Application-GUID", inv.AppGUID)
	}
	f("Invitation-Command", string(inv.Command))
	f("Invitation-Cookie", strconv.FormatUint(uint64(inv.Cookie), 10))
	if inv.Command == CommandInvite {
		f("Application-File", inv.FileName)
		f("Application-FileSize", strconv.FormatInt(inv.FileSize, 10))
	}
	if inv.Connectivity != "" {
		f("Connectivity", inv.Connectivity)
	}
	if inv.IPAddress != "" {
		f("IP-Address", inv.IPAddress)
	}
	if inv.IPAddressInternal != "" {
		f("IP-Address-Internal", inv.IPAddressInternal)
	}
	if inv.Port != 0 {
		f("Port", strconv.Itoa(inv.Port))
	}
	if inv.PortX != 0 {
		f("PortX", strconv.Itoa(inv.PortX))
	}
	if inv.HasAuthCookie {
		f("AuthCookie", strconv.FormatUint(uint64(inv.AuthCookie), 10))
	}
	if inv.SenderConnect {
		f("Sender-Connect", "TRUE")
	}
	if inv.LaunchApplication != "" {
		f("Launch-Application", inv.LaunchApplication)
	}
	if inv.RequestData != "" {
		f("Request-Data", inv.RequestData)
	}
	if inv.CancelCode != "" {
		f("Cancel-Code", string(inv.CancelCode))
	}
	return h
}

// Marshal formats the invitation body: the Header fields as "Name: value"
// lines with CRLF, then an empty line.
func (inv *Invitation) Marshal() []byte {
	var b bytes.Buffer
	for _, f := range inv.Header() {
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// FromHeader parses invitation fields already split by msnp (for example
// those msmsgs/client hands to its OnInvite callback), with the same
// checks as ParseInvitation.
func FromHeader(h msnp.Header) (*Invitation, error) {
	var b bytes.Buffer
	for _, f := range h {
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\n")
		if b.Len() > MaxBodySize {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: fields longer than %d bytes", ErrInvitation, MaxBodySize)
		}
	}
	return ParseInvitation(b.Bytes())
}

// Message formats the whole MSG payload: MIME headers, empty line, body.
func (inv *Invitation) Message() []byte {
	head := "MIME-Version: 1.0\r\nContent-Type: " + ContentType + "\r\n\r\n"
	return append([]byte(head), inv.Marshal()...)
}

// ParseMessage parses a whole MSG payload (MIME headers, empty line, body)
// whose Content-Type must be text/x-msmsgsinvite.
func ParseMessage(payload []byte) (*Invitation, error) {
	head, body, ok := bytes.Cut(payload, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("msnftp: parse message: %w: no empty line after the MIME headers", ErrInvitation)
	}
	if len(head) > MaxBodySize {
		return nil, fmt.Errorf("msnftp: parse message: %w: MIME headers longer than %d bytes", ErrInvitation, MaxBodySize)
	}
	ct := ""
	for _, line := range strings.Split(string(head), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
			ct = strings.TrimSpace(value)
		}
	}
	mt, _, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "text/x-msmsgsinvite") {
		return nil, fmt.Errorf("msnftp: parse message: %w: Content-Type %q is not text/x-msmsgsinvite", ErrInvitation, ct)
	}
	return ParseInvitation(body)
}

// ParseInvitation parses an invitation body ("Name: value" lines separated by
// CRLF or LF). Unknown fields are ignored; known fields may appear once.
// It checks what each command needs: an INVITE a file name and size (for
// the file transfer GUID), an ACCEPT with an AuthCookie an address and port,
// a CANCEL a Cancel-Code.
func ParseInvitation(body []byte) (*Invitation, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("msnftp: parse invitation: %w: body of %d bytes exceeds %d", ErrInvitation, len(body), MaxBodySize)
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("msnftp: parse invitation: %w: body is not valid UTF-8", ErrInvitation)
	}
	inv := &Invitation{}
	seen := map[string]bool{}
	fields := 0
	var hasCookie, hasSize, hasPort bool
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		fields++
		if fields > MaxFields {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: more than %d fields", ErrInvitation, MaxFields)
		}
		if len(line) > MaxFieldSize {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: field longer than %d bytes", ErrInvitation, MaxFieldSize)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: line %q has no colon", ErrInvitation, line)
		}
		name = strings.TrimSpace(name)
		value = strings.TrimSpace(value)
		key := strings.ToLower(name)
		if strings.ContainsAny(value, "\x00\r") {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: field %s has a control character", ErrInvitation, name)
		}
		known := true
		var err error
		switch key {
		case "invitation-command":
			inv.Command = Command(strings.ToUpper(value))
		case "invitation-cookie":
			inv.Cookie, err = parseCookie(value)
			hasCookie = true
		case "application-name":
			inv.AppName = value
		case "application-guid":
			inv.AppGUID = value
		case "application-file":
			inv.FileName = value
		case "application-filesize":
			inv.FileSize, err = strconv.ParseInt(value, 10, 64)
			if err == nil && inv.FileSize < 0 {
				err = errors.New("negative")
			}
			hasSize = true
		case "connectivity":
			inv.Connectivity = strings.ToUpper(value)
		case "ip-address":
			inv.IPAddress = value
		case "ip-address-internal":
			inv.IPAddressInternal = value
		case "port":
			inv.Port, err = parsePort(value)
			hasPort = true
		case "portx":
			inv.PortX, err = parsePort(value)
		case "authcookie":
			inv.AuthCookie, err = parseCookie(value)
			inv.HasAuthCookie = true
		case "sender-connect":
			inv.SenderConnect = strings.EqualFold(value, "TRUE")
		case "launch-application":
			inv.LaunchApplication = value
		case "request-data":
			inv.RequestData = value
		case "cancel-code":
			inv.CancelCode = CancelCode(strings.ToUpper(value))
		default:
			known = false
		}
		if err != nil {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: field %s: bad value %q", ErrInvitation, name, value)
		}
		if known {
			if seen[key] {
				return nil, fmt.Errorf("msnftp: parse invitation: %w: field %s appears twice", ErrInvitation, name)
			}
			seen[key] = true
		}
	}
	if !hasCookie {
		return nil, fmt.Errorf("msnftp: parse invitation: %w: no Invitation-Cookie", ErrInvitation)
	}
	switch inv.Command {
	case CommandInvite:
		if inv.AppGUID == "" {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: INVITE without Application-GUID", ErrInvitation)
		}
		if inv.IsFileTransfer() && (inv.FileName == "" || !hasSize) {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: file transfer INVITE needs Application-File and Application-FileSize", ErrInvitation)
		}
	case CommandAccept:
		if inv.HasAuthCookie && (inv.IPAddress == "" || !hasPort) {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: ACCEPT with AuthCookie needs IP-Address and Port", ErrInvitation)
		}
	case CommandCancel:
		if inv.CancelCode == "" {
			return nil, fmt.Errorf("msnftp: parse invitation: %w: CANCEL without Cancel-Code", ErrInvitation)
		}
	case "":
		return nil, fmt.Errorf("msnftp: parse invitation: %w: no Invitation-Command", ErrInvitation)
	default:
		return nil, fmt.Errorf("msnftp: parse invitation: %w: unknown Invitation-Command %q", ErrInvitation, inv.Command)
	}
	return inv, nil
}

func parseCookie(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err
}

func parsePort(s string) (int, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err == nil && v == 0 {
		return 0, errors.New("port 0")
	}
	return int(v), err
}
