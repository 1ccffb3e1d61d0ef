package gss

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/internal/testenv"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC8009Checksums checks the keyed checksums that RFC 4121 MIC tokens
// are made of against RFC 8009 Appendix A ("Checksum": key usage 2 over
// the bytes 00..14).
func TestRFC8009Checksums(t *testing.T) {
	msg := unhex(t, "000102030405060708090A0B0C0D0E0F1011121314")
	for _, tt := range []struct {
		et       int32
		key, sum string
	}{
		{etypeID.AES128_CTS_HMAC_SHA256_128, "3705D96080C17728A0E800EAB6E0D23C", "D78367186643D67B411CBA9139FC1DEE"},
		{etypeID.AES256_CTS_HMAC_SHA384_192, "6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52", "45EE791567EEFCA37F4AC1E0222DE80D43C3BFA06699672A"},
	} {
		e, err := crypto.GetEtype(tt.et)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.GetChecksumHash(unhex(t, tt.key), msg, 2)
		if err != nil || !bytes.Equal(got, unhex(t, tt.sum)) {
			t.Errorf("etype %d checksum = %x, %v; want %s (RFC 8009 Appendix A)", tt.et, got, err, tt.sum)
		}
	}
}

// TestRC4TokenLayout checks the byte layout of RFC 4757 section 7.2 and
// 7.3 tokens: RFC 1964 framing, TOK_ID, SGN_ALG, SEAL_ALG, filler, and
// that the plain SND_SEQ carries the direction bytes.
func TestRC4TokenLayout(t *testing.T) {
	kss := unhex(t, "00112233445566778899aabbccddeeff")
	mic := rc4MIC(kss, []byte("hello"), 7, true)
	if len(mic) != 2+11+24 || mic[0] != 0x60 || mic[1] != 35 || !bytes.Equal(mic[2:13], krb5OID) {
		t.Fatalf("MIC framing = %x", mic[:13])
	}
	inner := mic[13:]
	if !bytes.Equal(inner[:8], []byte{1, 1, 0x11, 0, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("MIC header = %x, want 0101 1100 ffffffff", inner[:8])
	}
	if seq := rc4Seq(kss, inner[16:24], inner[8:16]); !bytes.Equal(seq, []byte{0, 0, 0, 7, 0, 0, 0, 0}) {
		t.Errorf("MIC SND_SEQ = %x, want 00000007 00000000", seq)
	}
	acc := rc4MIC(kss, []byte("hello"), 7, false)
	if seq := rc4Seq(kss, acc[13+16:13+24], acc[13+8:13+16]); !bytes.Equal(seq, []byte{0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("acceptor MIC SND_SEQ = %x, want 00000007 ffffffff", seq)
	}
	w := rc4Wrap(kss, []byte("hello"), 1, true, true, [8]byte{})
	if !bytes.Equal(w[13:21], []byte{2, 1, 0x11, 0, 0x10, 0, 0xff, 0xff}) || len(w) != 13+32+5+1 {
		t.Errorf("wrap header = %x (len %d)", w[13:21], len(w))
	}
	if bytes.Contains(w, []byte("hello")) {
		t.Error("sealed wrap token carries the plaintext")
	}
}

func contexts(t *testing.T, et int32) (ini, acc *Context) {
	e, _ := crypto.GetEtype(et)
	key := types.EncryptionKey{KeyType: et, KeyValue: bytes.Repeat([]byte{0x5a}, e.GetKeyByteSize())}
	ini, err := New(key, true)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ = New(key, false)
	return ini, acc
}

var allEtypes = []int32{etypeID.RC4_HMAC, etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192}

func TestMICRoundTripAndTamper(t *testing.T) {
	for _, et := range allEtypes {
		t.Run(fmt.Sprint(et), func(t *testing.T) {
			ini, acc := contexts(t, et)
			msg := []byte("<Kerberos><3a4f><1><SIP Communications Service><sip/lab.test>")
			tok, err := ini.GetMIC(msg, 42)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := acc.VerifyMIC(msg, tok)
			if err != nil || seq != 42 {
				t.Fatalf("VerifyMIC = %d, %v; want 42", seq, err)
			}
			if _, err := acc.VerifyMIC(append([]byte("x"), msg...), tok); !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyMIC(changed message) = %v, want ErrBadSignature", err)
			}
			if _, err := ini.VerifyMIC(msg, tok); !errors.Is(err, ErrDirection) {
				t.Errorf("VerifyMIC(reflected token) = %v, want ErrDirection", err)
			}
			for i := range tok {
				bad := append([]byte(nil), tok...)
				bad[i] ^= 0x01
				// RFC 1964 / 4757 leave SND_SEQ out of the checksum: a changed
				// sequence number shows as a different seq, which the caller's
				// sequence check refuses.
				if seq, err := acc.VerifyMIC(msg, bad); err == nil && seq == 42 {
					t.Fatalf("VerifyMIC accepted a token with byte %d flipped", i)
				}
			}
			w, err := acc.Wrap(msg, 3, false)
			if err != nil {
				t.Fatal(err)
			}
			got, seq, _, err := ini.Unwrap(w)
			if err != nil || seq != 3 || !bytes.Equal(got, msg) {
				t.Fatalf("Unwrap = %q, %d, %v", got, seq, err)
			}
		})
	}
}

// mitAcceptor runs testdata/mitgss.c: MIT krb5's own GSS-API acceptor.
type mitAcceptor struct {
	in  io.Writer
	out *bufio.Scanner
}

// buildMIT compiles testdata/mitgss.c and returns the program's path.
func buildMIT(t *testing.T) string {
	cc := testenv.Tool(t, "cc", "apt-get install gcc")
	if _, err := os.Stat("/usr/include/gssapi/gssapi_krb5.h"); err != nil {
		testenv.Missing(t, "MIT GSS-API headers not found: apt-get install libkrb5-dev")
	}
	bin := filepath.Join(t.TempDir(), "mitgss")
	if out, err := exec.Command(cc, "-o", bin, "testdata/mitgss.c", "-lgssapi_krb5").CombinedOutput(); err != nil {
		t.Fatalf("cc mitgss.c: %v\n%s", err, out)
	}
	return bin
}

// startMIT runs bin (from buildMIT) as an acceptor for keytab.
func startMIT(t *testing.T, bin string, r *kdctest.Realm, keytab string) *mitAcceptor {
	cmd := exec.Command(bin)
	cmd.Env = append(r.Env(), "KRB5_KTNAME="+keytab)
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(outp)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &mitAcceptor{in: in, out: sc}
}

func (m *mitAcceptor) do(t *testing.T, args ...string) []string {
	t.Helper()
	fmt.Fprintln(m.in, strings.Join(args, " "))
	if !m.out.Scan() {
		t.Fatalf("mitgss %s: no answer", args[0])
	}
	f := strings.Fields(m.out.Text())
	if len(f) == 0 || f[0] != "ok" {
		t.Fatalf("MIT %s = %q", args[0], m.out.Text())
	}
	return f[1:]
}

// TestAgainstMITGSSAPI checks every token format both ways against MIT
// krb5's libgssapi_krb5 on a context made from a real MIT KDC ticket.
func TestAgainstMITGSSAPI(t *testing.T) {
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "secret-pass")
	kt := r.AddService(t, "sip/lab.test", "")
	bin := buildMIT(t)
	for _, et := range []int32{etypeID.RC4_HMAC, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192} {
		t.Run(kerberos.EnctypeName(et), func(t *testing.T) {
			cl, err := kerberos.Login(kerberos.Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "secret-pass", Enctypes: []int32{et}, AllowRC4: true})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			tok, key, err := cl.InitialContext("sip/lab.test")
			if err != nil {
				t.Fatal(err)
			}
			mit := startMIT(t, bin, r, kt)
			mit.do(t, "accept", hex.EncodeToString(tok))
			ctx, err := New(key, true)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("<Kerberos><41c3a2f0><1><SIP Communications Service><sip/lab.test><call-1><2><REGISTER><sip:alice@lab.test><t1><><900>")
			hm := hex.EncodeToString(msg)
			// Our MIC, verified by MIT.
			mic, err := ctx.GetMIC(msg, 1)
			if err != nil {
				t.Fatal(err)
			}
			mit.do(t, "verify", hm, hex.EncodeToString(mic))
			// MIT's MIC, verified by us.
			theirs := unhex(t, mit.do(t, "mic", hm)[0])
			if _, err := ctx.VerifyMIC(msg, theirs); err != nil {
				t.Errorf("VerifyMIC(MIT's MIC %x) = %v", theirs, err)
			}
			if _, err := ctx.VerifyMIC(msg[1:], theirs); !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyMIC(MIT's MIC, other message) = %v, want ErrBadSignature", err)
			}
			confs := []bool{false}
			if et == etypeID.RC4_HMAC {
				confs = append(confs, true)
			}
			for _, conf := range confs {
				w, err := ctx.Wrap(msg, 2, conf)
				if err != nil {
					t.Fatal(err)
				}
				got := mit.do(t, "unwrap", hex.EncodeToString(w))
				if got[0] != hm || got[1] != map[bool]string{false: "0", true: "1"}[conf] {
					t.Errorf("MIT unwrap(our wrap, conf=%v) = %v", conf, got)
				}
				cflag := map[bool]string{false: "0", true: "1"}[conf]
				theirW := unhex(t, mit.do(t, "wrap", cflag, hm)[0])
				plain, _, sealed, err := ctx.Unwrap(theirW)
				if err != nil || !bytes.Equal(plain, msg) || sealed != conf {
					t.Errorf("Unwrap(MIT wrap conf=%v) = %q sealed=%v, %v", conf, plain, sealed, err)
				}
			}
		})
	}
}

func FuzzVerifyMIC(f *testing.F) {
	ini, _ := contexts(&testing.T{}, etypeID.RC4_HMAC)
	tok, _ := ini.GetMIC([]byte("m"), 1)
	f.Add(tok, true)
	_, acc2 := contexts(&testing.T{}, etypeID.AES256_CTS_HMAC_SHA1_96)
	tok2, _ := acc2.GetMIC([]byte("m"), 1)
	f.Add(tok2, false)
	f.Add([]byte{0x60, 0x81}, true)
	f.Fuzz(func(t *testing.T, tok []byte, rc4 bool) {
		et := int32(etypeID.AES256_CTS_HMAC_SHA1_96)
		if rc4 {
			et = etypeID.RC4_HMAC
		}
		_, acc := contexts(t, et)
		ini, _ := contexts(t, et)
		_, _ = acc.VerifyMIC([]byte("m"), tok)
		_, _ = ini.VerifyMIC([]byte("m"), tok)
		_, _, _, _ = acc.Unwrap(tok)
	})
}
