package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
)

// pbkdf2SHA256 is PBKDF2 (RFC 8018) with HMAC-SHA256, equal to
// crypto/pbkdf2.Key(sha256.New, password, salt, iter, keyLen) and about
// a third cheaper, which is what a sign-in costs on the lab service.
//
// Each iteration is two SHA-256 compressions: the inner hash of the
// previous U continues from the state after the key's ipad block, the
// outer one from the state after its opad block. Both inputs are exactly
// one 64-byte block (32 bytes of U and the fixed padding for a 96-byte
// message), so the state after writing that block is the hash: it is read
// with AppendBinary instead of Sum, which copies the digest and pads again.
func pbkdf2SHA256(password string, salt []byte, iter, keyLen int) []byte {
	key := []byte(password)
	if len(key) > sha256.BlockSize {
		s := sha256.Sum256(key)
		key = s[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	d := sha256.New()
	m := d.(encoding.BinaryMarshaler)
	u := d.(encoding.BinaryUnmarshaler)
	a := d.(encoding.BinaryAppender)
	d.Write(ipad[:])
	inner, _ := m.MarshalBinary()
	d.Reset()
	d.Write(opad[:])
	outer, _ := m.MarshalBinary()

	// block is U (32 bytes) then the padding of a 96-byte message.
	var block [sha256.BlockSize]byte
	block[32] = 0x80
	binary.BigEndian.PutUint64(block[56:], (sha256.BlockSize+sha256.Size)*8)
	state := make([]byte, 0, len(inner))
	// compress runs one block from a saved state and leaves the resulting
	// hash in block[:32]. The marshaled state is "sha\x03", the eight
	// 32-bit words big-endian, then the buffer and length.
	compress := func(from []byte) {
		u.UnmarshalBinary(from)
		d.Write(block[:])
		state, _ = a.AppendBinary(state[:0])
		copy(block[:32], state[4:36])
	}

	mac := hmac.New(sha256.New, []byte(password))
	out := make([]byte, 0, (keyLen+sha256.Size-1)/sha256.Size*sha256.Size)
	var t [sha256.Size]byte
	for n := uint32(1); len(out) < keyLen; n++ {
		mac.Reset()
		mac.Write(salt)
		mac.Write(binary.BigEndian.AppendUint32(nil, n))
		mac.Sum(block[:0]) // U1
		copy(t[:], block[:32])
		for range iter - 1 {
			compress(inner)
			compress(outer)
			for i := range t {
				t[i] ^= block[i]
			}
		}
		out = append(out, t[:]...)
	}
	return out[:keyLen]
}
