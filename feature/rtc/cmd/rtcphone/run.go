package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/audio/device"
	"github.com/oemkit/messenger/feature/rtc/media"
)

// usageError marks errors in the command line (exit status 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

type options struct {
	listen, user, dial, transport, play, record, codecs, ports string
	tone, expectTone                                           float64
	duration, timeout, statsEvery                              time.Duration
	jsonOut, verbose, device                                   bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("rtcphone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rtcphone [-dial sip:user@host:port | answer] [flags]")
		fmt.Fprintln(stderr, "Places (-dial) or answers one voice call; exit status 0 if the call worked.")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.listen, "listen", "0.0.0.0:6901", "SIP listen address (UDP and TCP)")
	fs.StringVar(&o.user, "user", "rtc", "our SIP user name")
	fs.StringVar(&o.dial, "dial", "", "call this URI (sip:user@host:port); without it, answer the first incoming call")
	fs.StringVar(&o.transport, "transport", "udp", "transport for -dial: udp or tcp")
	fs.StringVar(&o.play, "play", "", "send this WAV file (8 kHz mono 16-bit) and hang up when it ends")
	fs.Float64Var(&o.tone, "tone", 440, "send a sine tone of this frequency in Hz when -play is not given")
	fs.StringVar(&o.record, "record", "", "record received audio to this WAV file")
	fs.Float64Var(&o.expectTone, "expect-tone", 0, "fail unless received audio is dominated by this frequency in Hz")
	fs.StringVar(&o.codecs, "codecs", "PCMU,PCMA,telephone-event", "codecs in preference order")
	fs.StringVar(&o.ports, "media-ports", "16384-32767", "UDP port range for RTP/RTCP")
	fs.DurationVar(&o.duration, "duration", 0, "hang up after this long (0: when the file ends or the peer hangs up)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up if no call is established within this")
	fs.DurationVar(&o.statsEvery, "stats", 0, "print statistics at this interval while the call runs (0: only at the end)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the final statistics as JSON")
	fs.BoolVar(&o.verbose, "v", false, "log SIP details to stderr")
	fs.BoolVar(&o.device, "device", false, "use the sound card (audio driver) as microphone and speaker")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))}
	}
	if o.transport != "udp" && o.transport != "tcp" {
		return nil, usageError{fmt.Errorf("-transport %q: use udp or tcp", o.transport)}
	}
	return o, nil
}

func parsePorts(s string) (media.PortRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return media.PortRange{}, usageError{fmt.Errorf("-media-ports %q: want MIN-MAX such as 16384-32767", s)}
	}
	r := media.PortRange{Min: a, Max: b}
	if err := r.Validate(); err != nil {
		return r, usageError{err}
	}
	return r, nil
}

// report is the final outcome printed by -json.
type report struct {
	OK       bool        `json:"ok"`
	Remote   string      `json:"remote"`
	Codec    string      `json:"codec"`
	SetupMS  float64     `json:"setup_ms"`
	Duration string      `json:"duration"`
	Ended    string      `json:"ended"`
	Tone     *bool       `json:"tone_found,omitempty"`
	Stats    media.Stats `json:"stats"`
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ports, err := parsePorts(o.ports)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	var src audio.Source = &audio.Tone{Freq: o.tone}
	hangupOnEnd := false
	if o.play != "" {
		w, err := audio.OpenWAV(o.play)
		if err != nil {
			return err
		}
		defer w.Close()
		src, hangupOnEnd = w, true
	}
	rec := &audio.Buffer{}
	var sink audio.Sink = rec
	var wav *audio.WAVSink
	if o.record != "" {
		wav, err = audio.CreateWAV(o.record)
		if err != nil {
			return err
		}
		sink = teeSink{rec, wav}
	}

	if o.device {
		spk, err := device.OpenSpeaker()
		if err != nil {
			return err
		}
		defer spk.Close()
		sink = teeSink{sink, spk}
		if o.play == "" {
			mic, err := device.OpenMicrophone()
			if err != nil {
				return err
			}
			defer mic.Close()
			src = mic
		}
	}

	answered := make(chan *rtc.Call, 1)
	answerErr := make(chan error, 1)
	cfg := rtc.Config{
		User: o.user, ListenAddr: o.listen, MediaPorts: ports,
		Codecs: strings.Split(o.codecs, ","), Logger: logger, MaxCalls: 1,
		OnIncoming: func(in *rtc.Incoming) {
			fmt.Fprintf(stdout, "incoming call from %s over %s\n", in.From, in.Transport)
			c, err := in.Answer(rtc.CallOptions{Source: src, Sink: sink, HangupOnSourceEnd: hangupOnEnd})
			if err != nil {
				answerErr <- err
				return
			}
			answered <- c
		},
	}
	p, err := rtc.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	defer p.Close()

	var call *rtc.Call
	wait, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.dial != "" {
		call, err = p.Dial(wait, o.dial, rtc.CallOptions{Source: src, Sink: sink, Transport: o.transport, HangupOnSourceEnd: hangupOnEnd})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "connected to %s (%s), setup %s\n", call.Remote(), call.Codec(), call.SetupTime().Round(time.Microsecond))
	} else {
		fmt.Fprintf(stdout, "waiting for a call on %s (udp port %d, tcp port %d)\n", o.listen, p.Port("udp"), p.Port("tcp"))
		select {
		case call = <-answered:
			fmt.Fprintf(stdout, "answered (%s), setup %s\n", call.Codec(), call.SetupTime().Round(time.Microsecond))
		case err := <-answerErr:
			return err
		case <-wait.Done():
			return fmt.Errorf("no call within %s; check the caller dials this host's port %d", o.timeout, p.Port("udp"))
		}
	}

	start := time.Now()
	var limit <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		limit = t.C
	}
	var tick <-chan time.Time
	if o.statsEvery > 0 {
		tk := time.NewTicker(o.statsEvery)
		defer tk.Stop()
		tick = tk.C
	}
loop:
	for {
		select {
		case <-call.Done():
			break loop
		case <-limit:
			break loop
		case <-ctx.Done():
			break loop
		case <-tick:
			fmt.Fprintf(stdout, "stats: %s\n", call.Stats())
		}
	}
	st := call.Stats()
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	call.Hangup(hctx)
	hcancel()
	if wav != nil {
		if err := wav.Close(); err != nil {
			return err
		}
	}
	r := report{Remote: call.Remote(), Codec: call.Codec(), SetupMS: float64(call.SetupTime().Microseconds()) / 1000,
		Duration: time.Since(start).Round(time.Millisecond).String(), Ended: fmt.Sprint(call.Reason()), Stats: st}
	r.OK = st.PacketsReceived > 0 && st.PacketsSent > 0 && !errors.Is(call.Reason(), rtc.ErrMediaTimeout)
	var toneErr error
	if o.expectTone > 0 {
		found := audio.DominantTone(rec.Samples(), o.expectTone, []float64{300, 440, 700, 1000, 1500, 2500, 3000}, 10)
		r.Tone = &found
		if !found {
			r.OK = false
			toneErr = fmt.Errorf("received audio is not dominated by %.0f Hz", o.expectTone)
		}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	} else {
		fmt.Fprintf(stdout, "call ended (%s) after %s: %s\n", r.Ended, r.Duration, st)
	}
	switch {
	case toneErr != nil:
		return toneErr
	case st.PacketsReceived == 0:
		return errors.New("no audio arrived; check that UDP media ports are open between the phones")
	case !r.OK:
		return fmt.Errorf("call failed: %v", call.Reason())
	}
	return nil
}

// teeSink writes each frame to two sinks.
type teeSink [2]audio.Sink

func (t teeSink) WriteFrame(f []int16) error {
	if err := t[0].WriteFrame(f); err != nil {
		return err
	}
	return t[1].WriteFrame(f)
}
