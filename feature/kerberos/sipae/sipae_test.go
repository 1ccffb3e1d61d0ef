package sipae

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
)

const register = "REGISTER sip:contoso.com SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 192.0.2.1:4849\r\n" +
	"From: <sip:alice@contoso.com>;tag=604168c9c0;epid=2ebb6f264f\r\n" +
	"To: <sip:alice@contoso.com>\r\n" +
	"Call-ID: c7142b90f8c94668807a382f552a6770\r\n" +
	"CSeq: 3 REGISTER\r\n" +
	"Expires: 900\r\n" +
	"Content-Length: 0\r\n\r\n"

func parse(t testing.TB, s string) *sipmsg.Message {
	m, err := sipmsg.Parse([]byte(s), sipmsg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBuffer checks the field order of [MS-SIP] section 3.1.4.2: method,
// rand, num, realm, targetname, Call-ID, CSeq number, CSeq method, From
// URI, From tag, To tag, Expires (empty brackets when absent), and the
// response code for responses only.
func TestBuffer(t *testing.T) {
	m := parse(t, register)
	got := string(Buffer(m, "41c3a2f0", "1", DefaultRealm, "sip/server.contoso.com"))
	want := "<Kerberos><41c3a2f0><1><SIP Communications Service><sip/server.contoso.com>" +
		"<c7142b90f8c94668807a382f552a6770><3><REGISTER><sip:alice@contoso.com><604168c9c0><><900>"
	if got != want {
		t.Errorf("Buffer(request) =\n%s\nwant\n%s", got, want)
	}
	resp := sipmsg.NewResponse(m, 200, "OK")
	resp.Set("To", "<sip:alice@contoso.com>;tag=9588410E2DA11CEE9D0AE7733E07830F")
	got = string(Buffer(resp, "8c1e", "2", DefaultRealm, "sip/server.contoso.com"))
	want = "<Kerberos><8c1e><2><SIP Communications Service><sip/server.contoso.com>" +
		"<c7142b90f8c94668807a382f552a6770><3><REGISTER><sip:alice@contoso.com><604168c9c0><9588410E2DA11CEE9D0AE7733E07830F><><200>"
	if got != want {
		t.Errorf("Buffer(response) =\n%s\nwant\n%s", got, want)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		want   Params
		err    bool
	}{
		{`Kerberos realm="SIP Communications Service", targetname="sip/server.contoso.com", version=3`, "Kerberos",
			Params{"realm": "SIP Communications Service", "targetname": "sip/server.contoso.com", "version": "3"}, false},
		{`NTLM realm="x"`, "NTLM", Params{"realm": "x"}, false},
		{`Kerberos rspauth="602306092A864886F71201020201011100FFFFFFFF", srand="3A5F", snum=1, opaque="B8C44A3C", qop="auth"`, "Kerberos",
			Params{"rspauth": "602306092A864886F71201020201011100FFFFFFFF", "srand": "3A5F", "snum": "1", "opaque": "B8C44A3C", "qop": "auth"}, false},
		{`Kerberos realm="a\"b"`, "Kerberos", Params{"realm": `a"b`}, false},
		{`Kerberos realm="open`, "", nil, true},
		{`Kerberos realm="a", realm="b"`, "", nil, true},
		{`Kerberos =x`, "", nil, true},
		{`Kerberos realm="a" junk`, "", nil, true},
		{``, "", nil, true},
		{"Kerberos " + strings.Repeat("a=1, ", 40), "", nil, true},
		{"Kerberos gssapi-data=\"" + strings.Repeat("A", MaxHeader) + "\"", "", nil, true},
	}
	for _, tt := range tests {
		scheme, p, err := ParseHeader(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseHeader(%.60q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrHeader) {
				t.Errorf("ParseHeader(%.60q) = %v, want ErrHeader", tt.in, err)
			}
			continue
		}
		if scheme != tt.scheme || !cmp.Equal(p, tt.want) {
			t.Errorf("ParseHeader(%.60q) = %q %v, want %q %v", tt.in, scheme, p, tt.scheme, tt.want)
		}
	}
	// Format and ParseHeader agree.
	p := Params{"qop": "auth", "opaque": "AB12", "realm": DefaultRealm, "targetname": "sip/x", "crand": "0a0b", "cnum": "7", "response": "6023"}
	_, back, err := ParseHeader(Format(AuthOrder, p))
	if err != nil || !cmp.Equal(back, p) {
		t.Errorf("ParseHeader(Format(p)) = %v, %v; want %v", back, err, p)
	}
}

func pair(t *testing.T, et int32) (cl, sv *SA) {
	key := types.EncryptionKey{KeyType: et, KeyValue: bytes.Repeat([]byte{7}, map[int32]int{etypeID.RC4_HMAC: 16, etypeID.AES256_CTS_HMAC_SHA1_96: 32}[et])}
	cl, err := NewSA(key, true, DefaultRealm, "sip/lab.test", "0123abcd")
	if err != nil {
		t.Fatal(err)
	}
	sv, err = NewSA(key, false, DefaultRealm, "sip/lab.test", "0123abcd")
	if err != nil {
		t.Fatal(err)
	}
	return cl, sv
}

func TestSignVerify(t *testing.T) {
	for _, et := range []int32{etypeID.RC4_HMAC, etypeID.AES256_CTS_HMAC_SHA1_96} {
		cl, sv := pair(t, et)
		req := parse(t, register)
		if err := cl.SignRequest(req); err != nil {
			t.Fatal(err)
		}
		wire := parse(t, string(req.Bytes()))
		_, p, err := ParseHeader(wire.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		if err := sv.VerifyClient(wire, p); err != nil {
			t.Fatalf("etype %d: VerifyClient = %v", et, err)
		}
		if err := sv.VerifyClient(wire, p); !errors.Is(err, ErrReplay) {
			t.Errorf("VerifyClient(replayed) = %v, want ErrReplay", err)
		}
		// A changed Expires breaks the signature.
		req2 := parse(t, register)
		_ = cl.SignRequest(req2)
		req2.Set("Expires", "0")
		_, p2, _ := ParseHeader(req2.Get("Authorization"))
		if err := sv.VerifyClient(req2, p2); !errors.Is(err, ErrSignature) {
			t.Errorf("VerifyClient(changed Expires) = %v, want ErrSignature", err)
		}
		resp := sipmsg.NewResponse(wire, 200, "OK")
		if err := sv.SignServer(resp); err != nil {
			t.Fatal(err)
		}
		if err := cl.VerifyServer(parse(t, string(resp.Bytes()))); err != nil {
			t.Errorf("VerifyServer = %v", err)
		}
		resp.Code = 403
		if err := cl.VerifyServer(resp); !errors.Is(err, ErrSignature) {
			t.Errorf("VerifyServer(changed code) = %v, want ErrSignature", err)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(`Kerberos realm="SIP Communications Service", targetname="sip/server.contoso.com", version=3`)
	f.Add(`Kerberos qop="auth", opaque="1", realm="r", targetname="t", gssapi-data="YII=", version=3`)
	f.Add(`Kerberos realm="a\`)
	f.Fuzz(func(t *testing.T, s string) {
		scheme, p, err := ParseHeader(s)
		if err != nil {
			return
		}
		if len(p) > MaxParams || strings.ContainsAny(scheme, " \t") {
			t.Fatalf("ParseHeader(%q) = %q, %d params", s, scheme, len(p))
		}
	})
}

func FuzzVerifyServer(f *testing.F) {
	cl, sv := pair(&testing.T{}, etypeID.AES256_CTS_HMAC_SHA1_96)
	m, _ := sipmsg.Parse([]byte(register), sipmsg.Limits{})
	resp := sipmsg.NewResponse(m, 200, "OK")
	_ = sv.SignServer(resp)
	f.Add(resp.Get("Authentication-Info"))
	f.Fuzz(func(t *testing.T, info string) {
		r := sipmsg.NewResponse(m, 200, "OK")
		r.Set("Authentication-Info", info)
		_ = cl.VerifyServer(r)
	})
}
