package msnp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Lines taken from the MSNP8 protocol documentation (hypothetic.org and the
// MSNP wiki's MSNP8 session example).
var lineVectors = []struct {
	line string
	want Command
	plen int
}{
	{"VER 1 MSNP8 CVR0", Command{Name: "VER", TrID: 1, Args: []string{"MSNP8", "CVR0"}}, -1},
	{"CVR 2 0x0409 win 4.10 i386 MSNMSGR 5.0.0537 MSMSGS example@hotmail.com",
		Command{Name: "CVR", TrID: 2, Args: []string{"0x0409", "win", "4.10", "i386", "MSNMSGR", "5.0.0537", "MSMSGS", "example@hotmail.com"}}, -1},
	{"XFR 3 NS 10.0.0.5:1863 0 10.0.0.1:1863", Command{Name: "XFR", TrID: 3, Args: []string{"NS", "10.0.0.5:1863", "0", "10.0.0.1:1863"}}, -1},
	{"USR 6 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a14ba57b9a4b8c1b8d0b89aa1a2a",
		Command{Name: "USR", TrID: 6, Args: []string{"TWN", "S", "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a14ba57b9a4b8c1b8d0b89aa1a2a"}}, -1},
	{"USR 7 OK example@hotmail.com example%20user 1 0", Command{Name: "USR", TrID: 7, Args: []string{"OK", "example@hotmail.com", "example%20user", "1", "0"}}, -1},
	{"MSG Hotmail Hotmail 448", Command{Name: "MSG", TrID: NoTrID, Args: []string{"Hotmail", "Hotmail"}}, 448},
	{"SYN 8 15 1 1", Command{Name: "SYN", TrID: 8, Args: []string{"15", "1", "1"}}, -1},
	{"GTC A", Command{Name: "GTC", TrID: NoTrID, Args: []string{"A"}}, -1},
	{"BLP AL", Command{Name: "BLP", TrID: NoTrID, Args: []string{"AL"}}, -1},
	{"LSG 0 Other%20Contacts 0", Command{Name: "LSG", TrID: NoTrID, Args: []string{"0", "Other%20Contacts", "0"}}, -1},
	{"LST principal@passport.com Principal 11 0", Command{Name: "LST", TrID: NoTrID, Args: []string{"principal@passport.com", "Principal", "11", "0"}}, -1},
	{"BPR PHH 01%20234", Command{Name: "BPR", TrID: NoTrID, Args: []string{"PHH", "01%20234"}}, -1},
	{"CHG 9 NLN 0", Command{Name: "CHG", TrID: 9, Args: []string{"NLN", "0"}}, -1},
	{"ILN 9 AWY name_123@hotmail.com Jeeves", Command{Name: "ILN", TrID: 9, Args: []string{"AWY", "name_123@hotmail.com", "Jeeves"}}, -1},
	{"NLN BSY example@passport.com My%20Name", Command{Name: "NLN", TrID: NoTrID, Args: []string{"BSY", "example@passport.com", "My%20Name"}}, -1},
	{"FLN example@passport.com", Command{Name: "FLN", TrID: NoTrID, Args: []string{"example@passport.com"}}, -1},
	{"CHL 0 15570131571988941333", Command{Name: "CHL", TrID: 0, Args: []string{"15570131571988941333"}}, -1},
	{"QRY 1049 msmsgs@msnmsgr.com 32", Command{Name: "QRY", TrID: 1049, Args: []string{"msmsgs@msnmsgr.com"}}, 32},
	{"XFR 10 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308", Command{Name: "XFR", TrID: 10, Args: []string{"SB", "207.46.108.37:1863", "CKI", "17262740.1050826919.32308"}}, -1},
	{"RNG 11752013 207.46.108.38:1863 CKI 849102291.520491113 example@passport.com Example%20Name",
		Command{Name: "RNG", TrID: NoTrID, Args: []string{"11752013", "207.46.108.38:1863", "CKI", "849102291.520491113", "example@passport.com", "Example%20Name"}}, -1},
	{"CAL 2 RINGING 11752013", Command{Name: "CAL", TrID: 2, Args: []string{"RINGING", "11752013"}}, -1},
	{"IRO 1 1 2 name_123@hotmail.com Name_123", Command{Name: "IRO", TrID: 1, Args: []string{"1", "2", "name_123@hotmail.com", "Name_123"}}, -1},
	{"JOI name_123@hotmail.com Name_123", Command{Name: "JOI", TrID: NoTrID, Args: []string{"name_123@hotmail.com", "Name_123"}}, -1},
	{"MSG 4 N 133", Command{Name: "MSG", TrID: 4, Args: []string{"N"}}, 133},
	{"ACK 4", Command{Name: "ACK", TrID: 4}, -1},
	{"NAK 5", Command{Name: "NAK", TrID: 5}, -1},
	{"BYE example@passport.com", Command{Name: "BYE", TrID: NoTrID, Args: []string{"example@passport.com"}}, -1},
	{"ADD 0 RL 1234 example@passport.com Example%20Name", Command{Name: "ADD", TrID: 0, Args: []string{"RL", "1234", "example@passport.com", "Example%20Name"}}, -1},
	{"OUT OTH", Command{Name: "OUT", TrID: NoTrID, Args: []string{"OTH"}}, -1},
	{"OUT", Command{Name: "OUT", TrID: NoTrID}, -1},
	{"PNG", Command{Name: "PNG", TrID: NoTrID}, -1},
	{"QNG", Command{Name: "QNG", TrID: NoTrID}, -1},
	{"QNG 50", Command{Name: "QNG", TrID: NoTrID, Args: []string{"50"}}, -1},
	{"911 7", Command{Name: "911", TrID: 7}, -1},
	{"NOT 1500", Command{Name: "NOT", TrID: NoTrID}, 1500},
	{"USR 1 OK example@passport.com Example%20Name", Command{Name: "USR", TrID: 1, Args: []string{"OK", "example@passport.com", "Example%20Name"}}, -1},
}

func TestParseLineVectors(t *testing.T) {
	for _, v := range lineVectors {
		t.Run(v.line, func(t *testing.T) {
			got, plen, err := ParseLineLen(v.line + "\r\n")
			if err != nil {
				t.Fatalf("ParseLineLen(%q) error %v", v.line, err)
			}
			if diff := cmp.Diff(v.want, got); diff != "" {
				t.Errorf("ParseLineLen(%q) mismatch (-want +got):\n%s", v.line, diff)
			}
			if plen != v.plen {
				t.Errorf("ParseLineLen(%q) length = %d, want %d", v.line, plen, v.plen)
			}
			// Round trip: formatting gives back the same line.
			c := got
			if plen >= 0 {
				c.Payload = make([]byte, plen)
			}
			b, err := AppendCommand(nil, c)
			if err != nil {
				t.Fatalf("AppendCommand(%v) error %v", c, err)
			}
			if line := string(b[:len(v.line)+2]); line != v.line+"\r\n" {
				t.Errorf("AppendCommand(ParseLine(%q)) = %q, want the same line", v.line, line)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	for _, line := range []string{
		"",
		"   ",
		"us 1",
		"USRX 1",
		"usr 1 TWN",
		"USR 1 TWN\x00I",
		"USR 1\tTWN",
		"MSG",
		"MSG 1 U x",
		"MSG 1 U -5",
		"MSG 1 U 99999999999",
		"USR 99999999999 TWN",
		"QRY 1 msmsgs@msnmsgr.com",
	} {
		t.Run(line, func(t *testing.T) {
			_, err := ParseLine(line)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseLine(%q) error = %v, want ErrMalformed", line, err)
			}
		})
	}
}

func TestAppendCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Command
	}{
		{"bad name", Command{Name: "usr", TrID: 1}},
		{"space in arg", Command{Name: "REA", TrID: 1, Args: []string{"a@b", "my name"}}},
		{"empty arg", Command{Name: "REA", TrID: 1, Args: []string{""}}},
		{"crlf in arg", Command{Name: "REA", TrID: 1, Args: []string{"a\r\nOUT"}}},
		{"payload on non-payload command", Command{Name: "CHG", TrID: 1, Payload: []byte("x")}},
		{"trid too big", Command{Name: "CHG", TrID: MaxTrID + 1}},
		{"trid negative", Command{Name: "CHG", TrID: -2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := AppendCommand(nil, tc.c); err == nil {
				t.Errorf("AppendCommand(%+v) = %q, want error", tc.c, b)
			}
		})
	}
}

func TestCommandString(t *testing.T) {
	c := Command{Name: "MSG", TrID: 3, Args: []string{"A"}, Payload: []byte("hello")}
	if got, want := c.String(), "MSG 3 A 5"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := New("CHG", 5, "BSY", "0").String(), "CHG 5 BSY 0"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestServerError(t *testing.T) {
	c, err := ParseLine("911 7")
	if err != nil {
		t.Fatal(err)
	}
	var se *ServerError
	if !errors.As(c.Err(), &se) || se.Code != CodeAuthFailed || se.TrID != 7 {
		t.Fatalf("ParseLine(911 7).Err() = %v, want ServerError 911 trid 7", c.Err())
	}
	if got := se.Error(); got != "msnp: error 911: authentication failed (check the account name and password)" {
		t.Errorf("Error() = %q", got)
	}
	if New("CHG", 1).Err() != nil {
		t.Errorf("CHG.Err() != nil")
	}
	for _, tc := range []struct {
		c    Code
		want string
	}{
		{CodeNotOnline, "user is not online or is not accepting messages"},
		{CodeChallengeFailed, "challenge response failed"},
		{CodeBadCVR, "bad CVR parameters sent"},
		{CodeNotAcceptingUsers, "server is not accepting new users"},
		{Code(999), "server error 999"},
		{Code(299), "protocol error 299"},
	} {
		if got := tc.c.Text(); got != tc.want {
			t.Errorf("Code(%d).Text() = %q, want %q", tc.c, got, tc.want)
		}
	}
	if got := CodeNotOnline.Command(4).String(); got != "217 4" {
		t.Errorf("Command(4) = %q, want 217 4", got)
	}
}

func TestChallengeResponse(t *testing.T) {
	for _, tc := range []struct{ chl, want string }{
		{"15570131571988941333", "8f2f5a91b72102cd28355e9fc9000d6e"},
	} {
		if got := ChallengeResponse(tc.chl); got != tc.want {
			t.Errorf("ChallengeResponse(%q) = %q, want %q", tc.chl, got, tc.want)
		}
	}
	b, err := AppendCommand(nil, QRY(12, "15570131571988941333"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "QRY 12 msmsgs@msnmsgr.com 32\r\n8f2f5a91b72102cd28355e9fc9000d6e"; got != want {
		t.Errorf("QRY = %q, want %q", got, want)
	}
}

func TestStatusAndLists(t *testing.T) {
	for _, tc := range []struct {
		s    string
		text string
	}{
		{"NLN", "Online"}, {"BSY", "Busy"}, {"IDL", "Idle"}, {"BRB", "Be Right Back"},
		{"AWY", "Away"}, {"PHN", "On The Phone"}, {"LUN", "Out To Lunch"},
		{"HDN", "Appear Offline"}, {"FLN", "Offline"},
	} {
		st, err := ParseStatus(tc.s)
		if err != nil || st.Text() != tc.text {
			t.Errorf("ParseStatus(%q) = %q, %v; Text() %q, want %q", tc.s, st, err, st.Text(), tc.text)
		}
	}
	if _, err := ParseStatus("XXX"); err == nil {
		t.Errorf("ParseStatus(XXX) succeeded")
	}
	if StatusOffline.Settable() || !StatusHidden.Settable() {
		t.Errorf("Settable wrong")
	}
	if got, want := ListsFromMask(11), []List{ForwardList, AllowList, ReverseList}; !cmp.Equal(got, want) {
		t.Errorf("ListsFromMask(11) = %v, want %v", got, want)
	}
	for _, l := range Lists {
		if p, err := ParseList(string(l)); err != nil || p != l {
			t.Errorf("ParseList(%q) = %q, %v", l, p, err)
		}
	}
	if _, err := ParseListMask("16"); err == nil {
		t.Errorf("ParseListMask(16) succeeded")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ plain, enc string }{
		{"example user", "example%20user"},
		{"Other Contacts", "Other%20Contacts"},
		{"100% ok", "100%25%20ok"},
		{"Jürgen", "J%C3%BCrgen"},
		{"a@b.c", "a@b.c"},
		{"line\r\nOUT", "line%0D%0AOUT"},
	} {
		if got := EncodeName(tc.plain); got != tc.enc {
			t.Errorf("EncodeName(%q) = %q, want %q", tc.plain, got, tc.enc)
		}
		if got, err := DecodeName(tc.enc); err != nil || got != tc.plain {
			t.Errorf("DecodeName(%q) = %q, %v, want %q", tc.enc, got, err, tc.plain)
		}
	}
	for _, bad := range []string{"%", "%2", "%zz", "%FF"} {
		if _, err := DecodeName(bad); err == nil {
			t.Errorf("DecodeName(%q) succeeded, want error", bad)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, v := range lineVectors {
		f.Add(v.line)
	}
	f.Add("MSG 1 U 99999999999")
	f.Add("USR 1 TWN\x00I")
	f.Add("QRY A")    // a bare QRY whose token is not a transaction id
	f.Add("QRY 1049") // the server's acknowledgement
	f.Add("QRY 10 msmsgs@msnmsgr.com 32")
	f.Fuzz(func(t *testing.T, line string) {
		c, plen, err := ParseLineLen(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseLineLen(%q) error %v does not wrap ErrMalformed", line, err)
			}
			return
		}
		if plen >= 0 {
			c.Payload = make([]byte, plen%4096)
		}
		b, err := AppendCommand(nil, c)
		if err != nil {
			t.Fatalf("AppendCommand(ParseLine(%q)) error %v", line, err)
		}
		i := len(b) - len(c.Payload)
		c2, plen2, err := ParseLineLen(string(b[:i]))
		if err != nil {
			t.Fatalf("reparse of %q: %v", b[:i], err)
		}
		if plen2 >= 0 {
			c2.Payload = b[i:]
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("round trip of %q mismatch (-first +second):\n%s", line, diff)
		}
	})
}
