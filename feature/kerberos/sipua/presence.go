package sipua

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// XPIDFType is the presence document type the Windows Messenger 4.x/5.x
// SIP account exchanged with Exchange 2000 IM and Live Communications
// Server: XPIDF (draft-rosenberg-impp-pidf, an early PIDF) with the
// Messenger <msnsubstatus> extension.
const XPIDFType = "application/xpidf+xml"

// Statuses, as the substatus values of <msnsubstatus>, and "offline".
var Statuses = map[string]string{ // substatus -> XPIDF <status status=...>
	"online":      "open",
	"away":        "inactive",
	"idle":        "inactive",
	"berightback": "inactive",
	"outtolunch":  "inactive",
	"busy":        "inuse",
	"onthephone":  "inuse",
	"offline":     "closed",
}

// MaxPresenceDoc bounds a presence document.
const MaxPresenceDoc = 16 << 10

type xpidf struct {
	XMLName    xml.Name `xml:"presence"`
	Presentity struct {
		URI string `xml:"uri,attr"`
	} `xml:"presentity"`
	Atom struct {
		ID      string `xml:"id,attr"`
		Address struct {
			URI      string `xml:"uri,attr"`
			Priority string `xml:"priority,attr"`
			Status   struct {
				Status string `xml:"status,attr"`
			} `xml:"status"`
			Sub struct {
				Substatus string `xml:"substatus,attr"`
			} `xml:"msnsubstatus"`
		} `xml:"address"`
	} `xml:"atom"`
}

// PresenceDoc returns the XPIDF document saying that uri has status (one
// of Statuses).
func PresenceDoc(uri, status string) ([]byte, error) {
	st, ok := Statuses[status]
	if !ok {
		return nil, fmt.Errorf("sipua: unknown status %q (want one of online, away, busy, berightback, onthephone, outtolunch, idle, offline)", status)
	}
	var d xpidf
	d.Presentity.URI = uri + ";method=SUBSCRIBE"
	d.Atom.ID = "1"
	d.Atom.Address.URI = uri
	d.Atom.Address.Priority = "0.800000"
	d.Atom.Address.Status.Status = st
	d.Atom.Address.Sub.Substatus = status
	b, err := xml.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append([]byte("<?xml version=\"1.0\"?>\r\n<!DOCTYPE presence PUBLIC \"-//IETF//DTD RFCxxxx XPIDF 1.0//EN\" \"xpidf.dtd\">\r\n"), b...), nil
}

// ParsePresence reads an XPIDF document and returns the address URI and
// the Messenger status (the msnsubstatus, or one derived from <status>).
func ParsePresence(b []byte) (uri, status string, err error) {
	if len(b) > MaxPresenceDoc {
		return "", "", fmt.Errorf("sipua: presence document of %d bytes (limit %d)", len(b), MaxPresenceDoc)
	}
	var d xpidf
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	dec.Strict = true
	if err := dec.Decode(&d); err != nil {
		return "", "", fmt.Errorf("sipua: presence document: %v", err)
	}
	uri = d.Atom.Address.URI
	if uri == "" {
		uri = strings.TrimSuffix(d.Presentity.URI, ";method=SUBSCRIBE")
	}
	status = d.Atom.Address.Sub.Substatus
	if _, ok := Statuses[status]; !ok {
		switch d.Atom.Address.Status.Status {
		case "open":
			status = "online"
		case "inuse":
			status = "busy"
		case "inactive":
			status = "away"
		case "closed":
			status = "offline"
		default:
			return "", "", fmt.Errorf("sipua: presence document has no known status (status %q, substatus %q)", d.Atom.Address.Status.Status, d.Atom.Address.Sub.Substatus)
		}
	}
	if uri == "" {
		return "", "", fmt.Errorf("sipua: presence document names no address")
	}
	return uri, status, nil
}
