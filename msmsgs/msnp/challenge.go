package msnp

import (
	"crypto/md5"
	"encoding/hex"
)

// MSNP8 client identification used to answer CHL challenges.
const (
	ProductID  = "msmsgs@msnmsgr.com"
	ProductKey = "Q1P7W2E4J9R8U3S5"
)

// ChallengeResponse returns the 32-digit lower-case hex QRY payload for a
// CHL challenge: md5(challenge + ProductKey).
func ChallengeResponse(challenge string) string {
	sum := md5.Sum([]byte(challenge + ProductKey))
	return hex.EncodeToString(sum[:])
}

// QRY returns the QRY command answering challenge in transaction trID.
func QRY(trID int, challenge string) Command {
	return Command{Name: "QRY", TrID: trID, Args: []string{ProductID}, Payload: []byte(ChallengeResponse(challenge))}
}
