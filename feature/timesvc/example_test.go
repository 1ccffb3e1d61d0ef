package timesvc_test

import (
	"fmt"
	"time"

	"github.com/oemkit/messenger/feature/timesvc"
)

// A feature that needs the right time (Kerberos allows 5 minutes of skew)
// asks the time service's status before it blames the server.
func ExampleReadStatus() {
	st, err := timesvc.ReadStatus(timesvc.StatusPath)
	if err != nil {
		fmt.Println("clock state unknown:", err)
		return
	}
	if !st.Synced {
		fmt.Printf("the clock is not synced from %s: %s\n", st.Server, st.Error)
		return
	}
	fmt.Printf("clock synced from %s at %s, last offset %v\n", st.Server, st.LastSync.Format(time.RFC3339), time.Duration(st.OffsetNS))
}
