// Package timesvc is the device's time service (SYSGEN_TIMESVC): an SNTP
// client (RFC 4330, the client mode of RFC 5905) that sets the clock at boot
// and keeps it set, so Kerberos (which fails beyond 5 minutes of skew) and
// certificate checks see the right time.
//
// The client sends a version 4 client-mode request whose transmit
// timestamp is a random nonce, and accepts only a reply from the server's
// address (a connected UDP socket) whose origin timestamp is that nonce,
// with mode 4 (server), version 3 or 4, a leap indicator other than 3,
// stratum 1-15 (stratum 0 is a kiss-o'-death: DENY and RSTR stop polling
// for DenyBackoff, RATE doubles the poll interval), non-zero timestamps, a
// root distance within 1.5 s and a length of 48 to 1024 bytes. Anything
// else is dropped and the client waits for the real reply until its
// timeout (2 s).
//
// The service (Service.Run) sends a burst of four requests at start and
// keeps the one with the smallest round trip; an offset beyond the step
// threshold (128 ms) steps the clock (clock_settime), a smaller one is
// slewed (adjtimex). It then polls every poll_min seconds (64), doubling up
// to poll_max (1024) while the clock stays within the threshold. After
// every poll it writes its Status atomically to StatusPath, which
// ReadStatus reads (the Kerberos layer asks it "is the clock synced, what
// was the last offset"); each correction at start and each step is printed
// on the console as a DEVICE-CLOCK line with the status as JSON.
//
// The device command is ./feature/timesvc/cmd/timesvc: "timesvc daemon"
// (started by the device init), "timesvc status" and "timesvc query".
package timesvc
