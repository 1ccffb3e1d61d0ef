// Package gss computes and checks Kerberos GSS-API per-message tokens:
// MIC (GSS_GetMIC / GSS_VerifyMIC) and Wrap (GSS_Wrap / GSS_Unwrap).
//
// Two token formats exist, picked by the session key's encryption type:
//
//   - rc4-hmac (etype 23): RFC 4757 section 7 (RFC 1964 framing), written
//     here with the standard library because gokrb5 has no RC4 tokens.
//   - aes*-cts-hmac-* (etypes 17, 18, 19, 20): RFC 4121 section 4.2, built
//     on gokrb5's gssapi.MICToken and gssapi.WrapToken (integrity only).
//
// [MS-SIPAE] signs SIP messages with GSS_GetMIC tokens of either format.
package gss

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Sentinel errors; returned errors wrap one of them.
var (
	// ErrBadSignature: the token is well formed but its checksum does not
	// match the message (wrong key, or the message was changed).
	ErrBadSignature = errors.New("gss: signature does not match the message")
	// ErrMalformed: the token is not a token of the expected kind.
	ErrMalformed = errors.New("gss: malformed token")
	// ErrEnctype: no per-message token format for the key's encryption type.
	ErrEnctype = errors.New("gss: unsupported encryption type")
	// ErrDirection: a token we sent was reflected back at us.
	ErrDirection = errors.New("gss: token sent in the wrong direction")
)

// MaxToken bounds a token given to Verify or Unwrap (SIP messages are small).
const MaxToken = 256 << 10

// Context holds the key of an established security context and which side
// of it this end is.
type Context struct {
	key       types.EncryptionKey
	initiator bool
}

// New returns a context for key. initiator is true on the side that sent
// the AP-REQ (the SIP client), false on the acceptor (the SIP server).
func New(key types.EncryptionKey, initiator bool) (*Context, error) {
	switch key.KeyType {
	case etypeID.RC4_HMAC:
		if len(key.KeyValue) != 16 {
			return nil, fmt.Errorf("%w: rc4-hmac key of %d bytes, want 16", ErrEnctype, len(key.KeyValue))
		}
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
	default:
		return nil, fmt.Errorf("%w: etype %d (want rc4-hmac or an aes enctype)", ErrEnctype, key.KeyType)
	}
	return &Context{key: key, initiator: initiator}, nil
}

// RC4 reports whether the context uses RFC 4757 tokens.
func (c *Context) RC4() bool { return c.key.KeyType == etypeID.RC4_HMAC }

// Enctype is the session key's encryption type number.
func (c *Context) Enctype() int32 { return c.key.KeyType }

// GetMIC returns the MIC token over msg with sequence number seq.
func (c *Context) GetMIC(msg []byte, seq uint64) ([]byte, error) {
	if c.RC4() {
		return rc4MIC(c.key.KeyValue, msg, uint32(seq), c.initiator), nil
	}
	mt := gssapi.MICToken{SndSeqNum: seq, Payload: msg}
	usage := uint32(keyusage.GSSAPI_INITIATOR_SIGN)
	if !c.initiator {
		mt.Flags = gssapi.MICTokenFlagSentByAcceptor
		usage = keyusage.GSSAPI_ACCEPTOR_SIGN
	}
	if err := mt.SetChecksum(c.key, usage); err != nil {
		return nil, fmt.Errorf("gss: MIC: %w", err)
	}
	return mt.Marshal()
}

// VerifyMIC checks a MIC token from the peer over msg and returns the
// sequence number it carries.
func (c *Context) VerifyMIC(msg, tok []byte) (uint64, error) {
	if len(tok) > MaxToken {
		return 0, fmt.Errorf("%w: %d bytes", ErrMalformed, len(tok))
	}
	if c.RC4() {
		seq, err := rc4VerifyMIC(c.key.KeyValue, msg, tok, !c.initiator)
		return uint64(seq), err
	}
	var mt gssapi.MICToken
	if len(tok) >= 3 && (tok[2]&gssapi.MICTokenFlagSentByAcceptor != 0) == !c.initiator {
		return 0, fmt.Errorf("%w: MIC token", ErrDirection)
	}
	if err := mt.Unmarshal(tok, c.initiator); err != nil {
		return 0, fmt.Errorf("%w: MIC: %v", ErrMalformed, err)
	}
	usage := uint32(keyusage.GSSAPI_ACCEPTOR_SIGN)
	if !c.initiator {
		usage = keyusage.GSSAPI_INITIATOR_SIGN
	}
	mt.Payload = msg
	if ok, err := mt.Verify(c.key, usage); !ok || err != nil {
		return 0, fmt.Errorf("%w (RFC 4121 MIC, etype %d)", ErrBadSignature, c.key.KeyType)
	}
	return mt.SndSeqNum, nil
}

// Wrap returns a Wrap token carrying msg. conf asks for confidentiality,
// which this package offers for rc4-hmac only (RFC 4757 section 7.3); for
// AES it returns an error rather than sending the message in the clear.
func (c *Context) Wrap(msg []byte, seq uint64, conf bool) ([]byte, error) {
	if c.RC4() {
		var confounder [8]byte
		if _, err := rand.Read(confounder[:]); err != nil {
			return nil, fmt.Errorf("gss: wrap: %w", err)
		}
		return rc4Wrap(c.key.KeyValue, msg, uint32(seq), c.initiator, conf, confounder), nil
	}
	if conf {
		return nil, fmt.Errorf("%w: sealed RFC 4121 wrap tokens are not implemented; wrap with conf=false", ErrEnctype)
	}
	wt := gssapi.WrapToken{SndSeqNum: seq, Payload: msg, EC: 12}
	usage := uint32(keyusage.GSSAPI_INITIATOR_SEAL)
	if !c.initiator {
		wt.Flags = 0x01
		usage = keyusage.GSSAPI_ACCEPTOR_SEAL
	}
	if err := wt.SetCheckSum(c.key, usage); err != nil {
		return nil, fmt.Errorf("gss: wrap: %w", err)
	}
	wt.EC = uint16(len(wt.CheckSum))
	return wt.Marshal()
}

// Unwrap checks a Wrap token from the peer and returns the message, its
// sequence number and whether it was sealed.
func (c *Context) Unwrap(tok []byte) (msg []byte, seq uint64, sealed bool, err error) {
	if len(tok) > MaxToken {
		return nil, 0, false, fmt.Errorf("%w: %d bytes", ErrMalformed, len(tok))
	}
	if c.RC4() {
		m, s, sealed, err := rc4Unwrap(c.key.KeyValue, tok, !c.initiator)
		return m, uint64(s), sealed, err
	}
	if len(tok) >= 3 && tok[2]&0x02 != 0 {
		return nil, 0, true, fmt.Errorf("%w: sealed RFC 4121 wrap tokens are not implemented", ErrEnctype)
	}
	if len(tok) >= 3 && (tok[2]&0x01 != 0) == !c.initiator {
		return nil, 0, false, fmt.Errorf("%w: wrap token", ErrDirection)
	}
	var wt gssapi.WrapToken
	if err := wt.Unmarshal(tok, c.initiator); err != nil {
		return nil, 0, false, fmt.Errorf("%w: wrap: %v", ErrMalformed, err)
	}
	usage := uint32(keyusage.GSSAPI_ACCEPTOR_SEAL)
	if !c.initiator {
		usage = keyusage.GSSAPI_INITIATOR_SEAL
	}
	if ok, err := wt.Verify(c.key, usage); !ok || err != nil {
		return nil, 0, false, fmt.Errorf("%w (RFC 4121 wrap, etype %d)", ErrBadSignature, c.key.KeyType)
	}
	return wt.Payload, wt.SndSeqNum, false, nil
}

// --- RFC 4757 section 7 (rc4-hmac) ---

// krb5OID is the DER encoding of the Kerberos V5 mechanism OID
// 1.2.840.113554.1.2.2 (RFC 1964 section 1.1).
var krb5OID = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}

const (
	rc4MICLen  = 8 + 8 + 8     // header, SND_SEQ, SGN_CKSUM
	rc4WrapLen = 8 + 8 + 8 + 8 // header, SND_SEQ, SGN_CKSUM, Confounder
)

func hmacMD5(key []byte, parts ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func le32(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }

// frame adds the RFC 1964 section 1.1 / RFC 2743 section 3.1 token framing:
// 0x60, DER length, the mechanism OID, then the inner token.
func frame(inner []byte) []byte {
	n := len(krb5OID) + len(inner)
	var out []byte
	switch {
	case n < 0x80:
		out = []byte{0x60, byte(n)}
	case n < 0x100:
		out = []byte{0x60, 0x81, byte(n)}
	case n < 0x10000:
		out = []byte{0x60, 0x82, byte(n >> 8), byte(n)}
	default:
		out = []byte{0x60, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	out = append(out, krb5OID...)
	return append(out, inner...)
}

// unframe strips the framing and checks the OID.
func unframe(tok []byte) ([]byte, error) {
	if len(tok) < 2 || tok[0] != 0x60 {
		return nil, fmt.Errorf("%w: no RFC 1964 framing (want 0x60)", ErrMalformed)
	}
	n, rest := int(tok[1]), tok[2:]
	if n >= 0x80 {
		l := n & 0x7f
		if l == 0 || l > 3 || len(rest) < l {
			return nil, fmt.Errorf("%w: bad framing length", ErrMalformed)
		}
		n = 0
		for _, b := range rest[:l] {
			n = n<<8 | int(b)
		}
		rest = rest[l:]
	}
	if n != len(rest) {
		return nil, fmt.Errorf("%w: framing says %d bytes, token has %d", ErrMalformed, n, len(rest))
	}
	if !bytes.HasPrefix(rest, krb5OID) {
		return nil, fmt.Errorf("%w: not the Kerberos V5 mechanism", ErrMalformed)
	}
	return rest[len(krb5OID):], nil
}

// seqBytes is the plaintext SND_SEQ: the sequence number big-endian, then
// four direction bytes, 0x00 from the initiator and 0xff from the acceptor
// (RFC 4757 section 7.2, as RFC 1964 section 1.2.1.2).
func seqBytes(seq uint32, initiator bool) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, seq)
	if !initiator {
		copy(b[4:], []byte{0xff, 0xff, 0xff, 0xff})
	}
	return b
}

// rc4Seq encrypts or decrypts SND_SEQ: Kseq = HMAC(HMAC(Kss, 0), SGN_CKSUM).
func rc4Seq(kss, cksum, seq []byte) []byte {
	kseq := hmacMD5(hmacMD5(kss, le32(0)), cksum)
	ciph, _ := rc4.NewCipher(kseq)
	out := make([]byte, len(seq))
	ciph.XORKeyStream(out, seq)
	return out
}

// rc4MICHeader is TOK_ID 01 01, SGN_ALG 11 00 (HMAC), Filler ff ff ff ff.
var rc4MICHeader = []byte{0x01, 0x01, 0x11, 0x00, 0xff, 0xff, 0xff, 0xff}

// rc4Cksum: Ksign = HMAC(Kss, "signaturekey\0"); first 8 bytes of
// HMAC(Ksign, MD5(salt LE32 | parts...)) (RFC 4757 section 7.2: salt 15
// for MIC tokens, section 7.3: salt 13 for wrap tokens).
func rc4Cksum(kss []byte, salt uint32, parts ...[]byte) []byte {
	ksign := hmacMD5(kss, []byte("signaturekey\x00"))
	h := md5.New()
	h.Write(le32(salt))
	for _, p := range parts {
		h.Write(p)
	}
	return hmacMD5(ksign, h.Sum(nil))[:8]
}

func rc4MIC(kss, msg []byte, seq uint32, initiator bool) []byte {
	cksum := rc4Cksum(kss, 15, rc4MICHeader, msg)
	inner := make([]byte, 0, rc4MICLen)
	inner = append(inner, rc4MICHeader...)
	inner = append(inner, rc4Seq(kss, cksum, seqBytes(seq, initiator))...)
	inner = append(inner, cksum...)
	return frame(inner)
}

// rc4VerifyMIC checks a MIC token; fromInitiator says which direction
// bytes the token must carry.
func rc4VerifyMIC(kss, msg, tok []byte, fromInitiator bool) (uint32, error) {
	inner, err := unframe(tok)
	if err != nil {
		return 0, err
	}
	if len(inner) != rc4MICLen || !bytes.Equal(inner[:8], rc4MICHeader) {
		return 0, fmt.Errorf("%w: not an RFC 4757 MIC token (want %d bytes starting %x)", ErrMalformed, rc4MICLen, rc4MICHeader)
	}
	cksum := inner[16:24]
	want := rc4Cksum(kss, 15, inner[:8], msg)
	if !hmac.Equal(cksum, want) {
		return 0, fmt.Errorf("%w (RFC 4757 MIC)", ErrBadSignature)
	}
	return rc4CheckSeq(kss, cksum, inner[8:16], fromInitiator)
}

func rc4CheckSeq(kss, cksum, encSeq []byte, fromInitiator bool) (uint32, error) {
	seq := rc4Seq(kss, cksum, encSeq)
	dir := seq[4:]
	switch {
	case bytes.Equal(dir, []byte{0, 0, 0, 0}) && fromInitiator,
		bytes.Equal(dir, []byte{0xff, 0xff, 0xff, 0xff}) && !fromInitiator:
		return binary.BigEndian.Uint32(seq), nil
	case bytes.Equal(dir, []byte{0, 0, 0, 0}), bytes.Equal(dir, []byte{0xff, 0xff, 0xff, 0xff}):
		return 0, fmt.Errorf("%w: RFC 4757 token", ErrDirection)
	}
	return 0, fmt.Errorf("%w: RFC 4757 token has direction bytes %x", ErrMalformed, dir)
}

// rc4Wrap builds a wrap token (RFC 4757 section 7.3): TOK_ID 02 01,
// SGN_ALG 11 00, SEAL_ALG 10 00 (RC4) or ff ff (none), Filler ff ff.
// The message is padded with one byte 0x01 (RC4 is a stream cipher).
func rc4Wrap(kss, msg []byte, seq uint32, initiator, conf bool, confounder [8]byte) []byte {
	hdr := []byte{0x02, 0x01, 0x11, 0x00, 0xff, 0xff, 0xff, 0xff}
	if conf {
		hdr[4], hdr[5] = 0x10, 0x00
	}
	data := append(append([]byte(nil), msg...), 0x01)
	cksum := rc4Cksum(kss, 13, hdr, confounder[:], data)
	plainSeq := seqBytes(seq, initiator)
	body := append(append([]byte(nil), confounder[:]...), data...)
	if conf {
		rc4Seal(kss, plainSeq[:4], body)
	}
	inner := make([]byte, 0, rc4WrapLen-8+len(body))
	inner = append(inner, hdr...)
	inner = append(inner, rc4Seq(kss, cksum, plainSeq)...)
	inner = append(inner, cksum...)
	inner = append(inner, body...)
	return frame(inner)
}

// rc4Seal en/decrypts in place: Klocal = Kss ^ 0xf0 bytewise,
// Kcrypt = HMAC(HMAC(Klocal, 0), seq big-endian).
func rc4Seal(kss, seqBE, body []byte) {
	klocal := make([]byte, len(kss))
	for i, b := range kss {
		klocal[i] = b ^ 0xf0
	}
	kcrypt := hmacMD5(hmacMD5(klocal, le32(0)), seqBE)
	ciph, _ := rc4.NewCipher(kcrypt)
	ciph.XORKeyStream(body, body)
}

func rc4Unwrap(kss, tok []byte, fromInitiator bool) ([]byte, uint32, bool, error) {
	inner, err := unframe(tok)
	if err != nil {
		return nil, 0, false, err
	}
	if len(inner) < rc4WrapLen+1 || inner[0] != 0x02 || inner[1] != 0x01 || inner[2] != 0x11 || inner[3] != 0x00 || inner[6] != 0xff || inner[7] != 0xff {
		return nil, 0, false, fmt.Errorf("%w: not an RFC 4757 wrap token", ErrMalformed)
	}
	var sealed bool
	switch {
	case inner[4] == 0x10 && inner[5] == 0x00:
		sealed = true
	case inner[4] == 0xff && inner[5] == 0xff:
	default:
		return nil, 0, false, fmt.Errorf("%w: SEAL_ALG %x", ErrMalformed, inner[4:6])
	}
	cksum := inner[16:24]
	// The sequence number is needed first: it keys the decryption.
	plainSeq := rc4Seq(kss, cksum, inner[8:16])
	body := append([]byte(nil), inner[24:]...)
	if sealed {
		rc4Seal(kss, plainSeq[:4], body)
	}
	want := rc4Cksum(kss, 13, inner[:8], body)
	if !hmac.Equal(cksum, want) {
		return nil, 0, sealed, fmt.Errorf("%w (RFC 4757 wrap)", ErrBadSignature)
	}
	seq, err := rc4CheckSeq(kss, cksum, inner[8:16], fromInitiator)
	if err != nil {
		return nil, 0, sealed, err
	}
	data := body[8:]
	pad := int(data[len(data)-1])
	if pad < 1 || pad > 8 || pad > len(data) {
		return nil, 0, sealed, fmt.Errorf("%w: padding %d", ErrMalformed, pad)
	}
	return data[:len(data)-pad], seq, sealed, nil
}
