package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// RTC is the voice part of the settings: SYSGEN_RTC's rtc.* keys of the
// device settings file. Zero values mean the defaults of msmsgs/voice.
type RTC struct {
	SIPPort    int      // rtc.sip_port: where the peer's SIP INVITE arrives (default 6901)
	MediaPorts string   // rtc.media_ports: RTP/RTCP port range MIN-MAX (default 16384-16483)
	Codecs     []string // rtc.codecs: preference order (default PCMU, PCMA, telephone-event)
	Address    string   // rtc.address: IP address SIP and RTP bind to and announce (default all, announcing the conversation's address)
	Audio      string   // rtc.audio: device (the sound card), wav (files) or silence (default silence off the device)
	WAVIn      string   // rtc.wav_in: with rtc.audio wav, the 8 kHz mono WAV file sent in every call
	WAVOut     string   // rtc.wav_out: with rtc.audio wav, the folder each call's received audio is recorded to (CALL.wav)
}

// rtcCodecs are the codec names msmsgs's voice stack offers.
var rtcCodecs = []string{"PCMU", "PCMA", "telephone-event"}

// setRTC applies one rtc.* key of the settings file.
func (r *RTC) set(key string, v any) error {
	str := func() (string, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		return "", fmt.Errorf("key %q: want a string", key)
	}
	var err error
	switch key {
	case "rtc.sip_port":
		n, ok := v.(float64)
		if s, isStr := v.(string); isStr {
			f, perr := strconv.Atoi(strings.TrimSpace(s))
			n, ok = float64(f), perr == nil
		}
		if !ok || n != math.Trunc(n) || n < 1 || n > 65535 {
			return fmt.Errorf("key %q: want a port number 1-65535 such as 6901", key)
		}
		r.SIPPort = int(n)
	case "rtc.media_ports":
		r.MediaPorts, err = str()
	case "rtc.address":
		r.Address, err = str()
	case "rtc.audio":
		r.Audio, err = str()
	case "rtc.wav_in":
		r.WAVIn, err = str()
	case "rtc.wav_out":
		r.WAVOut, err = str()
	case "rtc.codecs":
		r.Codecs = nil
		switch x := v.(type) {
		case string:
			for _, c := range strings.Split(x, ",") {
				if c = strings.TrimSpace(c); c != "" {
					r.Codecs = append(r.Codecs, c)
				}
			}
		case []any:
			for _, c := range x {
				s, ok := c.(string)
				if !ok {
					return fmt.Errorf("key %q: want codec names such as \"PCMU,PCMA\"", key)
				}
				r.Codecs = append(r.Codecs, s)
			}
		default:
			return fmt.Errorf("key %q: want codec names such as \"PCMU,PCMA\"", key)
		}
	default:
		// Other rtc.* keys belong to SYSGEN_RTC itself.
		return nil
	}
	return err
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
	if r.Address != "" {
		if _, err := netip.ParseAddr(r.Address); err != nil {
			return fmt.Errorf("rtc.address %q: want an IP address such as 192.168.1.20", r.Address)
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
