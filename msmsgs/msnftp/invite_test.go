package msnftp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// corpus returns the testdata/invitations files starting with prefix.
func corpus(t testing.TB, prefix string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "invitations", prefix+"*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s* corpus files: %v", prefix, err)
	}
	m := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = b
	}
	return m
}

func TestParseMessageCorpus(t *testing.T) {
	want := map[string]*Invitation{
		"valid-invite.txt": {Command: CommandInvite, Cookie: 33267, AppName: "File Transfer", AppGUID: FileTransferGUID,
			FileName: "readme.txt", FileSize: 60904},
		"valid-invite-connectivity.txt": {Command: CommandInvite, Cookie: 5409603, AppName: "File Transfer", AppGUID: FileTransferGUID,
			FileName: "holiday photo.jpg", FileSize: 1048576, Connectivity: "N"},
		"valid-accept-receiver.txt": {Command: CommandAccept, Cookie: 33267, LaunchApplication: "FALSE", RequestData: "IP-Address:"},
		"valid-accept-sender.txt": {Command: CommandAccept, Cookie: 33267, IPAddress: "10.44.102.65", Port: 6891,
			AuthCookie: 93301, HasAuthCookie: true, LaunchApplication: "FALSE", RequestData: "IP-Address:"},
		"valid-accept-sender-connect.txt": {Command: CommandAccept, Cookie: 5409603, IPAddress: "192.168.0.2",
			IPAddressInternal: "10.0.0.5", Port: 6891, PortX: 11178, AuthCookie: 1912345, HasAuthCookie: true,
			SenderConnect: true, LaunchApplication: "FALSE", RequestData: "IP-Address:"},
		"valid-cancel-reject.txt":    {Command: CommandCancel, Cookie: 33267, CancelCode: CancelReject},
		"valid-cancel-fttimeout.txt": {Command: CommandCancel, Cookie: 33267, CancelCode: CancelFTTimeout},
		"valid-lf-only.txt":          {Command: CommandCancel, Cookie: 1, CancelCode: CancelOutbandCancel},
	}
	for name, b := range corpus(t, "valid-") {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMessage(b)
			if err != nil {
				t.Fatalf("ParseMessage(%s) = %v", name, err)
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("ParseMessage(%s) (-want +got):\n%s", name, diff)
			}
			// Formatting and parsing again gives the same invitation.
			again, err := ParseMessage(got.Message())
			if err != nil {
				t.Fatalf("ParseMessage(Message()) = %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	for name, b := range corpus(t, "invalid-") {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseMessage(b); !errors.Is(err, ErrInvitation) {
				t.Errorf("ParseMessage(%s) = %+v, %v; want ErrInvitation", name, got, err)
			}
		})
	}
}

func TestMarshalWireFormat(t *testing.T) {
	offer := &Invitation{Command: CommandInvite, Cookie: 33267, AppName: FileTransferName, AppGUID: FileTransferGUID,
		FileName: "readme.txt", FileSize: 60904}
	want, err := os.ReadFile(filepath.Join("testdata", "invitations", "valid-invite.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := offer.Message(); string(got) != string(want) {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	acc := (&Invitation{Cookie: 33267}).ReceiverAccept()
	if got, want := string(acc.Marshal()), "Invitation-Command: ACCEPT\r\nInvitation-Cookie: 33267\r\nLaunch-Application: FALSE\r\nRequest-Data: IP-Address:\r\n\r\n"; got != want {
		t.Errorf("ReceiverAccept().Marshal() = %q, want %q", got, want)
	}
	c := offer.Cancel(CancelReject)
	if got, want := string(c.Marshal()), "Invitation-Command: CANCEL\r\nInvitation-Cookie: 33267\r\nCancel-Code: REJECT\r\n\r\n"; got != want {
		t.Errorf("Cancel(REJECT).Marshal() = %q, want %q", got, want)
	}
}

func TestParseInvitationErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"no colon", "Invitation-Command INVITE\r\n"},
		{"cookie not a number", "Invitation-Command: CANCEL\r\nInvitation-Cookie: abc\r\nCancel-Code: FAIL\r\n"},
		{"cookie too big", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 4294967296\r\nCancel-Code: FAIL\r\n"},
		{"cancel without code", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\n"},
		{"invite without guid", "Invitation-Command: INVITE\r\nInvitation-Cookie: 1\r\n"},
		{"file transfer without size", "Invitation-Command: INVITE\r\nInvitation-Cookie: 1\r\nApplication-GUID: " + FileTransferGUID + "\r\nApplication-File: a\r\n"},
		{"port zero", "Invitation-Command: ACCEPT\r\nInvitation-Cookie: 1\r\nIP-Address: 1.2.3.4\r\nPort: 0\r\nAuthCookie: 2\r\n"},
		{"invalid utf-8", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\nCancel-Code: \xff\r\n"},
		{"too big", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\nCancel-Code: FAIL\r\nX: " + strings.Repeat("a", MaxBodySize) + "\r\n"},
		{"field too long", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\nCancel-Code: FAIL\r\nX: " + strings.Repeat("a", MaxFieldSize) + "\r\n"},
		{"too many fields", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\nCancel-Code: FAIL\r\n" + strings.Repeat("X: y\r\n", MaxFields)},
		{"NUL in value", "Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\nCancel-Code: FA\x00IL\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := ParseInvitation([]byte(tc.body)); !errors.Is(err, ErrInvitation) {
				t.Errorf("ParseInvitation(%.60q) = %+v, %v; want ErrInvitation", tc.body, got, err)
			}
		})
	}
}

func TestNewOffer(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		wantErr bool
	}{
		{"a.txt", 0, false},
		{"photo 1.jpg", 1 << 40, false},
		{"", 1, true},
		{"a\nb", 1, true},
		{"a", -1, true},
		{"\xff", 1, true},
	}
	for _, tc := range tests {
		inv, err := NewOffer(tc.name, tc.size)
		if (err != nil) != tc.wantErr {
			t.Errorf("NewOffer(%q, %d) = %v, want error %v", tc.name, tc.size, err, tc.wantErr)
			continue
		}
		if err == nil && (!inv.IsFileTransfer() || inv.Cookie == 0) {
			t.Errorf("NewOffer(%q, %d) = %+v, not a file transfer INVITE with a cookie", tc.name, tc.size, inv)
		}
	}
}

func TestCancelCodeFor(t *testing.T) {
	tests := []struct {
		err  error
		want CancelCode
	}{
		{nil, ""},
		{ErrTooLarge, CancelReject},
		{ErrNoSpace, CancelReject},
		{ErrTimeout, CancelFTTimeout},
		{errors.Join(errors.New("x"), ErrCancelled), CancelFail},
	}
	for _, tc := range tests {
		if got := CancelCodeFor(tc.err); got != tc.want {
			t.Errorf("CancelCodeFor(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func FuzzParseInvitation(f *testing.F) {
	for _, b := range corpus(f, "") {
		f.Add(b)
	}
	f.Add([]byte("Invitation-Command: INVITE\r\nInvitation-Cookie: 1\r\nApplication-GUID: x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ParseMessage(data)
		if err != nil {
			if !errors.Is(err, ErrInvitation) {
				t.Fatalf("ParseMessage error %v does not wrap ErrInvitation", err)
			}
			inv, err = ParseInvitation(data)
			if err != nil {
				return
			}
		}
		// What we accept we can format, and it reads back the same.
		again, err := ParseInvitation(inv.Marshal())
		if err != nil {
			t.Fatalf("ParseInvitation(Marshal(%+v)) = %v", inv, err)
		}
		if diff := cmp.Diff(inv, again); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func TestHeaderRoundTrip(t *testing.T) {
	for name, b := range corpus(t, "valid-") {
		m, err := msnp.ParseMessage(b)
		if err != nil {
			t.Fatalf("msnp.ParseMessage(%s) = %v", name, err)
		}
		fields, err := msnp.ParseHeaderBlock(m.Body)
		if err != nil {
			t.Fatalf("msnp.ParseHeaderBlock(%s) = %v", name, err)
		}
		inv, err := FromHeader(fields)
		if err != nil {
			t.Fatalf("FromHeader(%s) = %v", name, err)
		}
		want, _ := ParseMessage(b)
		if diff := cmp.Diff(want, inv); diff != "" {
			t.Errorf("FromHeader(%s) (-want +got):\n%s", name, diff)
		}
		msg, err := msnp.NewInviteMessage(inv.Header())
		if err != nil {
			t.Fatalf("msnp.NewInviteMessage(%s) = %v", name, err)
		}
		out, err := msg.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("ParseMessage(msnp message %q) = %v", out, err)
		}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Errorf("through msnp (-want +got):\n%s", diff)
		}
	}
}
