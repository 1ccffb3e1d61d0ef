package server

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// BenchmarkSwitchboardRoundTrip measures one acknowledged message (MSG with
// ack mode A, relayed to the other participant, ACK back) over loopback TCP.
func BenchmarkSwitchboardRoundTrip(b *testing.B) {
	lb := newLab(b, b.TempDir(), nil)
	defer lb.stop()
	lb.addUser("alice@lab.test", pw, "Alice")
	lb.addUser("bob@lab.test", pw, "Bob")
	ctx := context.Background()
	signIn := func(email string) *labclient.Conn {
		c, err := labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, email, pw)
		if err != nil {
			b.Fatal(err)
		}
		c.Call("SYN", "0")
		c.Call("CHG", "NLN", "0")
		return c
	}
	alice, bob := signIn("alice@lab.test"), signIn("bob@lab.test")
	defer alice.Close()
	defer bob.Close()
	xfr, _ := alice.Call("XFR", "SB")
	sa, _ := labclient.Dial(ctx, xfr.Arg(1))
	defer sa.Close()
	sa.Call("USR", "alice@lab.test", xfr.Arg(3))
	sa.Call("CAL", "bob@lab.test")
	rng, err := bob.Expect("RNG", msnp.NoTrID)
	if err != nil {
		b.Fatal(err)
	}
	sb, _ := labclient.Dial(ctx, rng.Arg(1))
	defer sb.Close()
	id, _ := sb.Send("ANS", "bob@lab.test", rng.Arg(3), rng.Arg(0))
	sb.Expect("ANS", id)
	sa.Expect("JOI", msnp.NoTrID)
	sa.Backlog()
	go func() { // bob reads and drops messages
		sb.Timeout = 0
		sb.SetReadDeadline(time.Time{})
		for {
			if _, err := sb.Read(); err != nil {
				return
			}
		}
	}()
	payload, _ := msnp.NewTextMessage("benchmark message: the quick brown fox").Bytes()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id, err := sa.SendMsg(msnp.AckFull, payload)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sa.Expect("ACK", id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
	if testing.Verbose() {
		fmt.Printf("p50 %v p99 %v\n", lat[len(lat)/2], lat[len(lat)*99/100])
	}
}
