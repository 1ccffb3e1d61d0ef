//go:build sysgen_rtc

package daemon

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/audio/device"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/voice"
)

// Voice reports whether this build of msmsgs carries voice calls (the
// design's SYSGEN_RTC, build tag sysgen_rtc).
const Voice = true

// calls is the voice part of the daemon: msmsgs/voice's call manager on
// the daemon's client, its commands, and its events on the daemon's
// stream.
type calls struct {
	d   *Daemon
	m   *voice.Manager
	sc  *voice.SIPCalls // calls of the SIP account (nil without one)
	rtc config.RTC

	mu     sync.Mutex
	closer map[string][]io.Closer // audio ends of each call, closed when it ends
}

func newCalls(d *Daemon, s *config.Settings) (callService, error) {
	v := &calls{d: d, rtc: s.RTC, closer: map[string][]io.Closer{}}
	cfg := voice.Config{SIPPort: s.RTC.SIPPort, Codecs: s.RTC.CanonicalCodecs(), ListenIP: s.RTC.Listen,
		AnnounceIP: s.RTC.Address,
		OnEvent:    v.publish, Logger: d.log}
	if s.RTC.MediaPorts != "" {
		r, err := voice.ParsePortRange(s.RTC.MediaPorts)
		if err != nil {
			return nil, err
		}
		cfg.MediaPorts = r
	}
	if s.RTC.Audio == "device" || s.RTC.Audio == "wav" {
		cfg.Audio = v.audio
	}
	if d.cl != nil {
		m, err := voice.New(cfg, voice.ClientTransport{C: d.cl})
		if err != nil {
			return nil, err
		}
		v.m = m
		// Voice invitations first: the file transfer handler declines
		// applications it does not know.
		d.mu.Lock()
		d.invites = append([]client.InviteFunc{m.InviteFunc()}, d.invites...)
		d.mu.Unlock()
	}
	if d.sip != nil {
		sc, err := voice.NewSIPCalls(voice.SIPConfig{UA: d.sip.UA,
			Leg:  rtc.LegConfig{BindIP: net.ParseIP(s.RTC.Listen), AdvertiseIP: s.RTC.Address, MediaPorts: cfg.MediaPorts, Codecs: cfg.Codecs},
			Busy: func() bool { return v.m != nil && len(v.m.Calls()) > 0 }, Audio: cfg.Audio, OnEvent: v.publish, Logger: d.log})
		if err != nil {
			return nil, err
		}
		v.sc = sc
		d.sip.HandleCalls(sc.OnDialog)
	}
	for name, spec := range callCommands {
		if err := d.Register(name, Command{Spec: spec, Run: v.command(name)}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// start listens for SIP; signing out (the client's connection ending) and
// stopping end the calls.
func (v *calls) start(ctx context.Context) func() {
	if v.m == nil { // only a SIP account: its calls need no listener
		return func() {
			v.sc.Close()
			v.mu.Lock()
			for id := range v.closer {
				v.closeAudio(id)
			}
			v.mu.Unlock()
		}
	}
	if err := v.m.Start(ctx); err != nil {
		msg := v.d.lang.Text("err.voice-start", err)
		v.d.log.Error(msg)
		v.d.Publish(client.Event{Type: client.EventError, Error: msg})
		return func() {}
	}
	sub, _, _ := v.d.cl.Subscribe(64) // the .NET Messenger account's sign-outs
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C {
			if e.Type == client.EventDisconnected {
				v.m.SignedOut()
			}
		}
	}()
	return func() {
		sub.Close()
		<-done
		v.m.Close()
		if v.sc != nil {
			v.sc.Close()
		}
		v.mu.Lock()
		for id := range v.closer {
			v.closeAudio(id)
		}
		v.mu.Unlock()
	}
}

func (v *calls) leaving(conv string) {
	if v.m != nil {
		v.m.ConversationEnded(conv)
	}
}

// publish puts a voice event on the daemon's stream as a client.Event.
func (v *calls) publish(e voice.Event) {
	ce := &client.CallEvent{Call: e.Call, Codec: e.Codec, Remote: e.Remote, SetupNS: int64(e.Setup),
		SIPSetupNS: int64(e.SIPSetup), Digits: e.Digits}
	if s := e.Stats; s != nil {
		ce.Stats = &client.CallStats{Loss: s.Loss, Lost: s.Lost, JitterNS: int64(s.Jitter), Concealed: s.Concealed,
			RTTNS: int64(s.RTT), Sent: s.Sent, Received: s.Received,
			CaptureNS: int64(s.Capture), CaptureMaxNS: int64(s.CaptureMax), PlayoutNS: int64(s.Playout), PlayoutMaxNS: int64(s.PlayoutMax)}
	}
	if e.Type == voice.EventEnded {
		v.mu.Lock()
		v.closeAudio(e.Call)
		v.mu.Unlock()
	}
	v.d.Publish(client.Event{Type: e.Type, Account: e.Account, Conversation: e.Conversation, Reason: e.Reason, CallEvent: ce})
}

// closeAudio closes the audio ends of call id (v.mu held): a recording
// gets its header and its final name.
func (v *calls) closeAudio(id string) {
	for _, c := range v.closer[id] {
		if err := c.Close(); err != nil {
			v.d.log.Warn("voice: close audio", "call", id, "err", err)
		}
	}
	delete(v.closer, id)
}

// audio opens the audio ends of a call that connected: the sound card
// (rtc.audio device) or WAV files (rtc.audio wav). What cannot be opened
// is silence, with an error event that says why.
func (v *calls) audio(id string) (audio.Source, audio.Sink) {
	var src audio.Source
	var sink audio.Sink
	var closers []io.Closer
	fail := func(err error) {
		msg := v.d.lang.Text("err.call-audio", id, err)
		v.d.log.Warn(msg)
		v.d.Publish(client.Event{Type: client.EventError, Error: msg})
	}
	switch v.rtc.Audio {
	case "device":
		if mic, err := device.OpenMicrophone(); err != nil {
			fail(err)
		} else {
			src, closers = mic, append(closers, mic)
		}
		if sp, err := device.OpenSpeaker(); err != nil {
			fail(err)
		} else {
			sink, closers = sp, append(closers, sp)
		}
	case "wav":
		if v.rtc.WAVIn != "" {
			if w, err := audio.OpenWAV(v.rtc.WAVIn); err != nil {
				fail(err)
			} else {
				src, closers = &thenSilence{src: w}, append(closers, w)
			}
		}
		if v.rtc.WAVOut != "" {
			if err := os.MkdirAll(v.rtc.WAVOut, 0o755); err != nil {
				fail(err)
			} else if w, err := audio.CreateWAV(filepath.Join(v.rtc.WAVOut, id+".wav")); err != nil {
				fail(err)
			} else {
				sink, closers = w, append(closers, w)
			}
		}
	}
	v.mu.Lock()
	v.closer[id] = append(v.closer[id], closers...)
	v.mu.Unlock()
	return src, sink
}

// thenSilence plays its source, then silence: the call stays up when the
// file ends.
type thenSilence struct {
	src   audio.Source
	ended bool
}

func (t *thenSilence) ReadFrame(f []int16) error {
	if !t.ended {
		err := t.src.ReadFrame(f)
		if err == nil {
			return nil
		}
		t.ended = true
		if !errors.Is(err, io.EOF) {
			return err
		}
	}
	clear(f)
	return nil
}

// command runs one call command.
func (v *calls) command(name string) func(context.Context, []string, func(client.Event) error) (any, error) {
	text := v.d.lang.Text
	usage := func() error { return errors.New(text("err.args", name, callCommands[name].Usage)) }
	return func(ctx context.Context, args []string, _ func(client.Event) error) (any, error) {
		var m callManager
		if v.m != nil {
			m = v.m
		}
		if v.sc != nil && len(args) > 0 && (strings.HasPrefix(args[0], "sip:") || isSIPCall(args[0])) {
			m = v.sc
		}
		switch name {
		case "call":
			if strings.HasPrefix(args[0], "sip:") && v.sc == nil {
				return nil, errors.New(v.d.lang.Text("err.call-no-sip"))
			}
			if m == nil {
				return nil, errors.New(v.d.lang.Text("err.no-msnp", "call "+args[0]))
			}
			id, err := m.Call(ctx, args[0])
			if err != nil {
				return nil, v.err(err)
			}
			return map[string]string{"call": id, "account": strings.ToLower(args[0])}, nil
		case "answer", "decline", "hangup":
			id, err := v.pick(name, args)
			if err != nil {
				return nil, err
			}
			if v.sc != nil && isSIPCall(id) {
				m = v.sc
			}
			if m == nil {
				return nil, errors.New(text("err.call-unknown"))
			}
			switch name {
			case "answer":
				err = m.Answer(id)
			case "decline":
				err = m.Decline(id)
			default:
				err = m.Hangup(id)
			}
			if err != nil {
				return nil, v.err(err)
			}
			return map[string]string{"call": id}, nil
		case "dtmf", "mute":
			if m == nil {
				return nil, errors.New(text("err.call-unknown"))
			}
		}
		switch name {
		case "dtmf":
			return nil, v.err(m.DTMF(args[0], args[1]))
		case "mute":
			var on bool
			switch strings.ToLower(args[1]) {
			case "on", "true", "1":
				on = true
			case "off", "false", "0":
			default:
				return nil, usage()
			}
			return nil, v.err(m.Mute(args[0], on))
		case "calls":
			return v.allCalls(), nil
		}
		return nil, usage()
	}
}

// callManager is what the call commands drive: the .NET Messenger
// account's voice.Manager or the SIP account's voice.SIPCalls.
type callManager interface {
	Call(ctx context.Context, account string) (string, error)
	Answer(id string) error
	Decline(id string) error
	Hangup(id string) error
	DTMF(id, digits string) error
	Mute(id string, on bool) error
}

// allCalls lists the calls of both accounts.
func (v *calls) allCalls() []voice.CallInfo {
	cs := []voice.CallInfo{}
	if v.m != nil {
		cs = append(cs, v.m.Calls()...)
	}
	if v.sc != nil {
		cs = append(cs, v.sc.Calls()...)
	}
	return cs
}

// isSIPCall reports a call id of the SIP account ("s1", ...).
func isSIPCall(id string) bool {
	if len(id) < 2 || id[0] != 's' {
		return false
	}
	for _, c := range id[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pick returns the call an answer, decline or hangup without an id means:
// the one ringing call (answer, decline), or the one call (hangup).
func (v *calls) pick(name string, args []string) (string, error) {
	if len(args) > 0 {
		return args[0], nil
	}
	var ids []string
	for _, c := range v.allCalls() {
		if name == "hangup" || (c.Role == "invitee" && c.Phase == "ringing") {
			ids = append(ids, c.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", errors.New(v.d.lang.Text("err.call-none-waiting"))
	case 1:
		return ids[0], nil
	}
	return "", errors.New(v.d.lang.Text("err.call-which", len(ids)))
}

// err gives the voice manager's errors in the daemon's language.
func (v *calls) err(err error) error {
	text := v.d.lang.Text
	switch {
	case err == nil:
		return nil
	case errors.Is(err, voice.ErrBusy):
		return errors.New(text("err.call-busy"))
	case errors.Is(err, voice.ErrNoCall):
		return errors.New(text("err.call-unknown"))
	case errors.Is(err, voice.ErrNotReady):
		return errors.New(text("err.call-state", strings.TrimPrefix(err.Error(), voice.ErrNotReady.Error()+": ")))
	case errors.Is(err, voice.ErrClosed):
		return errors.New(text("err.call-closed"))
	}
	return errors.New(text("err.call-failed", strings.TrimPrefix(err.Error(), "voice: ")))
}
