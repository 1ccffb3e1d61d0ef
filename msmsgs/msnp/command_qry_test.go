package msnp

import "testing"

// The client's challenge answer carries a payload; the server's
// acknowledgement "QRY trid" does not, and formats without a length.
func TestQRYBothDirections(t *testing.T) {
	c, plen, err := ParseLineLen("QRY 10 msmsgs@msnmsgr.com 32")
	if err != nil || plen != 32 || c.TrID != 10 {
		t.Errorf("ParseLineLen(client QRY) = %v, %d, %v; want trid 10 with a 32-byte payload", c, plen, err)
	}
	c, plen, err = ParseLineLen("QRY 1049")
	if err != nil || plen != -1 || c.TrID != 1049 {
		t.Errorf("ParseLineLen(server QRY) = %v, %d, %v; want trid 1049 without payload", c, plen, err)
	}
	b, err := AppendCommand(nil, New("QRY", 7))
	if err != nil || string(b) != "QRY 7\r\n" {
		t.Errorf("AppendCommand(QRY ack) = %q, %v; want \"QRY 7\\r\\n\"", b, err)
	}
	// A bare QRY whose one token is not a number survives parse, write,
	// parse (the fuzz target found it written with a payload length).
	c, _, err = ParseLineLen("QRY A")
	if err != nil {
		t.Fatalf("ParseLineLen(QRY A): %v", err)
	}
	if b, err := AppendCommand(nil, c); err != nil || string(b) != "QRY A\r\n" {
		t.Errorf("AppendCommand(ParseLine(QRY A)) = %q, %v; want \"QRY A\\r\\n\"", b, err)
	}
}
