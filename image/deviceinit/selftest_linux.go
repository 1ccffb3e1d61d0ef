package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// playTone plays a sine of hz for d through the audio driver. It is set by
// the file that links the audio driver; nil means the image has none.
var playTone func(ctx context.Context, hz float64, d time.Duration) error

// testReport is the DEVICE-TEST line.
type testReport struct {
	OK         bool        `json:"ok"`
	Interfaces []iface     `json:"interfaces"`
	TCP        *tcpResult  `json:"tcp,omitempty"`
	Tone       *toneResult `json:"tone,omitempty"`
}

type tcpResult struct {
	OK     bool   `json:"ok"`
	Peer   string `json:"peer"`
	Local  string `json:"local,omitempty"`
	Reply  string `json:"reply,omitempty"`
	Error  string `json:"error,omitempty"`
	TookMS int64  `json:"took_ms"`
}

type toneResult struct {
	OK     bool    `json:"ok"`
	Hz     float64 `json:"hz"`
	MS     int64   `json:"ms"`
	Error  string  `json:"error,omitempty"`
	TookMS int64   `json:"took_ms"`
}

func runSelfTest(ctx context.Context, t selfTest) testReport {
	r := testReport{OK: true, Interfaces: interfaces()}
	if t.TCP != "" {
		r.TCP = tcpTest(ctx, t.TCP)
		r.OK = r.OK && r.TCP.OK
	}
	if t.Tone > 0 {
		start := time.Now()
		r.Tone = &toneResult{Hz: t.Tone, MS: t.ToneLen.Milliseconds()}
		var err error
		if playTone == nil {
			err = fmt.Errorf("no audio driver in this image (add the audio feature to the design)")
		} else {
			err = playTone(ctx, t.Tone, t.ToneLen)
		}
		r.Tone.OK = err == nil
		r.Tone.Error = errString(err)
		r.Tone.TookMS = time.Since(start).Milliseconds()
		r.OK = r.OK && r.Tone.OK
	}
	return r
}

// tcpTest connects to addr, sends one line and reads one line back.
func tcpTest(ctx context.Context, addr string) *tcpResult {
	start := time.Now()
	res := &tcpResult{Peer: addr}
	fail := func(err error) *tcpResult {
		res.Error = err.Error()
		res.TookMS = time.Since(start).Milliseconds()
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var d net.Dialer
	var c net.Conn
	var err error
	// The link may come up a moment after the driver reports ready.
	for {
		c, err = d.DialContext(ctx, "tcp", addr)
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fail(fmt.Errorf("dial %s: %w", addr, err))
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	res.Local = c.LocalAddr().String()
	if _, err := fmt.Fprintf(c, "HELLO %s\n", res.Local); err != nil {
		return fail(fmt.Errorf("write: %w", err))
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fail(fmt.Errorf("read reply: %w", err))
	}
	res.Reply = strings.TrimRight(line, "\r\n")
	res.OK = true
	res.TookMS = time.Since(start).Milliseconds()
	return res
}
