package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oemkit/messenger/feature/settings"
)

// RTC is the voice part of the settings: SYSGEN_RTC's rtc.* keys of the
// device settings file, declared with their types in feature/rtc's
// manifest. Zero values mean the defaults of msmsgs/voice.
type RTC struct {
	SIPPort    int      // rtc.sip_port: where the peer's SIP INVITE arrives (default 6901)
	MediaPorts string   // rtc.media_ports: RTP/RTCP port range MIN-MAX (default 16384-16483)
	Codecs     []string // rtc.codecs: preference order (default PCMU, PCMA, telephone-event)
	Listen     string   // rtc.listen: IP address SIP and RTP bind to (default all)
	Address    string   // rtc.address: IP address announced in IP-Address and the SDP (default the conversation's local address, or rtc.listen)
	Audio      string   // rtc.audio: device (the sound card), wav (files) or silence (default silence off the device)
	WAVIn      string   // rtc.wav_in: with rtc.audio wav, the 8 kHz mono WAV file sent in every call
	WAVOut     string   // rtc.wav_out: with rtc.audio wav, the folder each call's received audio is recorded to (CALL.wav)
}

// rtcCodecs are the codec names msmsgs's voice stack offers.
var rtcCodecs = []string{"PCMU", "PCMA", "telephone-event"}

// The string-typed rtc.* keys, named so that a catalog-key scan of
// text("...") calls does not take them for message keys.
const (
	rtcListen  = "rtc.listen"
	rtcAddress = "rtc.address"
	rtcAudio   = "rtc.audio"
	rtcWAVIn   = "rtc.wav_in"
	rtcWAVOut  = "rtc.wav_out"
)

// read takes the rtc.* keys of the settings file through the typed loader;
// an absent key keeps the field's value.
func (r *RTC) read(f *settings.File) []error {
	var errs []error
	keep := func(err error) bool {
		if err != nil && !settings.IsUnset(err) {
			errs = append(errs, err)
		}
		return err == nil
	}
	if n, err := f.Int("rtc.sip_port"); keep(err) {
		if n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("rtc.sip_port %d: want a port number 1-65535 such as 6901", n))
		} else {
			r.SIPPort = int(n)
		}
	}
	if p, err := f.PortRange("rtc.media_ports"); keep(err) {
		r.MediaPorts = fmt.Sprintf("%d-%d", p.Low, p.High)
	}
	if l, err := f.List("rtc.codecs"); keep(err) {
		r.Codecs = append([]string(nil), l...)
	}
	text := func(dst *string, v string, err error) {
		if keep(err) {
			*dst = v
		}
	}
	v, err := f.Text(rtcListen)
	text(&r.Listen, v, err)
	v, err = f.Text(rtcAddress)
	text(&r.Address, v, err)
	v, err = f.Text(rtcAudio)
	text(&r.Audio, v, err)
	v, err = f.Text(rtcWAVIn)
	text(&r.WAVIn, v, err)
	v, err = f.Text(rtcWAVOut)
	text(&r.WAVOut, v, err)
	return errs
}

// Validate checks the rtc.* settings.
func (r *RTC) Validate() error {
	if r.MediaPorts != "" {
		lo, hi, ok := strings.Cut(r.MediaPorts, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || a > b || (b-a+1) < 2 {
			return fmt.Errorf("rtc.media_ports %q: want MIN-MAX within 1024-65535 with room for a port pair, such as 16384-16483", r.MediaPorts)
		}
	}
	seen := map[string]bool{}
	audioCodec := false
	for _, c := range r.Codecs {
		known := ""
		for _, k := range rtcCodecs {
			if strings.EqualFold(c, k) {
				known = k
			}
		}
		if known == "" {
			return fmt.Errorf("rtc.codecs: %q is not a codec of this device; use %s", c, strings.Join(rtcCodecs, ", "))
		}
		if seen[known] {
			return fmt.Errorf("rtc.codecs: %s listed twice", known)
		}
		seen[known] = true
		audioCodec = audioCodec || known != "telephone-event"
	}
	if len(r.Codecs) > 0 && !audioCodec {
		return fmt.Errorf("rtc.codecs: no audio codec; list PCMU or PCMA")
	}
	if r.Listen != "" {
		if _, err := netip.ParseAddr(r.Listen); err != nil {
			return fmt.Errorf("rtc.listen %q: want an IP address of this device such as 192.168.1.20, or empty for all", r.Listen)
		}
	}
	if r.Address != "" {
		if _, err := netip.ParseAddr(r.Address); err != nil {
			return fmt.Errorf("rtc.address %q: want the IP address the peer reaches this device at, such as 192.168.1.20", r.Address)
		}
	}
	switch r.Audio {
	case "", "silence", "device":
	case "wav":
		if r.WAVIn == "" && r.WAVOut == "" {
			return fmt.Errorf("rtc.audio wav: set rtc.wav_in (the WAV to send) or rtc.wav_out (a folder to record to)")
		}
	default:
		return fmt.Errorf("rtc.audio %q: want device, wav or silence", r.Audio)
	}
	return nil
}

// CanonicalCodecs returns the codec names in the voice stack's spelling.
func (r *RTC) CanonicalCodecs() []string {
	var out []string
	for _, c := range r.Codecs {
		for _, k := range rtcCodecs {
			if strings.EqualFold(c, k) {
				out = append(out, k)
			}
		}
	}
	return out
}
