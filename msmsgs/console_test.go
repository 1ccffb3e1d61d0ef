package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// waitOutput polls the console output until it contains want.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("console output has no %q within 30s:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the output buffer
	}
}

func TestConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const dan, eve = "dan@example.com", "eve@example.com"
	l := newLab(t, map[string]string{dan: "dan-Pw1", eve: "eve-Pw2"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := daemon(t, ctx, l, eve, "eve-Pw2")
	mustCtl(t, ctx, e, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, e, "name", "Eve \u00c9v\u00e8")

	in, inW := io.Pipe()
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runEnv(ctx, []string{"console", "-server", l.r.Addr, "-nexus", l.r.Nexus, "-ca", l.r.CA, "-account", dan},
			in, &out, &logs, func(k string) string {
				if k == "MSMSGS_PASSWORD" {
					return "dan-Pw1"
				}
				return ""
			})
	}()
	say := func(line string) {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatalf("console input: %v", err)
		}
	}
	waitOutput(t, &out, "* signed in as dan@example.com")
	say("/help")
	waitOutput(t, &out, "/msg EMAIL TEXT")
	say("/add " + eve)
	waitOutput(t, &out, "Eve Eve (eve@example.com) is now Online") // console.encoding ascii: accents dropped
	say("/status busy")
	waitOutput(t, &out, "your status is now Busy")
	say("/list")
	waitOutput(t, &out, "eve@example.com")
	seq := lastSeq(t, ctx, e)
	say("/msg " + eve + " hello from the console")
	waitOutput(t, &out, "(delivered)")
	waitFor(t, ctx, e, seq, "message", "account="+dan, "text=hello from the console")
	mustCtl(t, ctx, e, "send", dan, "hi dan \u2603")
	waitOutput(t, &out, ": hi dan \\u2603")
	say("/frobnicate")
	waitOutput(t, &out, `unknown command "/frobnicate"`)
	say("/quit")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("console: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("console did not exit after /quit")
	}
	for i, r := range out.String() {
		if r > 0x7e || (r < 0x20 && r != '\n') {
			t.Fatalf("console output byte %d is %q, not printable ASCII", i, r)
		}
	}
}
