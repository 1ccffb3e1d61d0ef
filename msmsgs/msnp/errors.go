package msnp

import (
	"fmt"
	"strconv"
)

// Code is a numeric MSNP error code sent in place of a command name.
type Code int

// Error codes (hypothetic.org MSNP8 error list).
const (
	CodeSyntax              Code = 200
	CodeInvalidParameter    Code = 201
	CodeInvalidUser         Code = 205
	CodeDomainMissing       Code = 206
	CodeAlreadyLoggedIn     Code = 207
	CodeInvalidUsername     Code = 208
	CodeInvalidFriendlyName Code = 209
	CodeListFull            Code = 210
	CodeAlreadyThere        Code = 215
	CodeNotOnList           Code = 216
	CodeNotOnline           Code = 217
	CodeAlreadyInMode       Code = 218
	CodeInOppositeList      Code = 219
	CodeGroupsFull          Code = 223
	CodeInvalidGroup        Code = 224
	CodeNotInGroup          Code = 225
	CodeSwitchboardFailed   Code = 280
	CodeTransferFailed      Code = 281
	CodeRequiredField       Code = 300
	CodeTooManyHits         Code = 301
	CodeNotLoggedIn         Code = 302
	CodeInternalError       Code = 500
	CodeDatabaseError       Code = 501
	CodeCommandDisabled     Code = 502
	CodeFileOperation       Code = 510
	CodeMemoryAllocation    Code = 520
	CodeChallengeFailed     Code = 540
	CodeServerBusy          Code = 600
	CodeServerUnavailable   Code = 601
	CodePeerNSDown          Code = 602
	CodeDatabaseConnect     Code = 603
	CodeServerGoingDown     Code = 604
	CodeConnectionFailed    Code = 707
	CodeBadCVR              Code = 710
	CodeWriteBlocking       Code = 711
	CodeSessionOverload     Code = 712
	CodeCallingTooRapidly   Code = 713
	CodeTooManySessions     Code = 714
	CodeNotExpected         Code = 715
	CodeBadFriendFile       Code = 717
	CodeChangingTooRapidly  Code = 800
	CodeServerTooBusy       Code = 910
	CodeAuthFailed          Code = 911
	CodeServerTooBusy2      Code = 912
	CodeNotAllowedOffline   Code = 913
	CodeServerUnavailable2  Code = 914
	CodeServerUnavailable3  Code = 915
	CodeServerUnavailable4  Code = 916
	CodeAuthFailed2         Code = 917
	CodeServerTooBusy3      Code = 918
	CodeServerTooBusy4      Code = 919
	CodeNotAcceptingUsers   Code = 920
	CodeServerTooBusy5      Code = 921
	CodeServerTooBusy6      Code = 922
	CodeKidsWithoutConsent  Code = 923
	CodePassportNotVerified Code = 924
)

var codeText = map[Code]string{
	200: "syntax error",
	201: "invalid parameter",
	205: "invalid user (no such account)",
	206: "domain name missing from the account name",
	207: "already logged in",
	208: "invalid username",
	209: "invalid friendly name",
	210: "list full",
	215: "user is already on that list",
	216: "user is not on that list",
	217: "user is not online or is not accepting messages",
	218: "already in that mode",
	219: "user is in the opposite list (allow and block are exclusive)",
	223: "too many groups",
	224: "invalid group",
	225: "user not in group",
	280: "switchboard failed",
	281: "transfer to switchboard failed",
	300: "required field missing",
	301: "too many hits",
	302: "not logged in",
	500: "internal server error",
	501: "database server error",
	502: "command disabled",
	510: "file operation failed",
	520: "memory allocation failed",
	540: "challenge response failed",
	600: "server is busy",
	601: "server is unavailable",
	602: "peer notification server is down",
	603: "database connection failed",
	604: "server is going down",
	707: "could not create connection",
	710: "bad CVR parameters sent",
	711: "write is blocking",
	712: "session is overloaded",
	713: "calling too rapidly",
	714: "too many sessions",
	715: "not expected",
	717: "bad friend file",
	800: "changing too rapidly",
	910: "server too busy",
	911: "authentication failed (check the account name and password)",
	912: "server too busy",
	913: "not allowed when offline (appear offline)",
	914: "server unavailable",
	915: "server unavailable",
	916: "server unavailable",
	917: "authentication failed",
	918: "server too busy",
	919: "server too busy",
	920: "server is not accepting new users",
	921: "server too busy",
	922: "server too busy",
	923: "kids passport without parental consent",
	924: "passport account not yet verified",
}

// Text returns a plain-English description of the code.
func (c Code) Text() string {
	if t, ok := codeText[c]; ok {
		return t
	}
	switch {
	case c >= 900:
		return "server error " + strconv.Itoa(int(c))
	case c >= 500:
		return "server error " + strconv.Itoa(int(c))
	}
	return "protocol error " + strconv.Itoa(int(c))
}

// String returns the three-digit code.
func (c Code) String() string { return strconv.Itoa(int(c)) }

// Command returns the error reply line for transaction trID, e.g. "911 3".
func (c Code) Command(trID int) Command { return Command{Name: strconv.Itoa(int(c)), TrID: trID} }

// ServerError is a numeric error reply received from a peer.
type ServerError struct {
	Code Code
	TrID int
}

// Error returns e.g. "msnp: error 911: authentication failed (...)".
func (e *ServerError) Error() string {
	return fmt.Sprintf("msnp: error %d: %s", int(e.Code), e.Code.Text())
}
