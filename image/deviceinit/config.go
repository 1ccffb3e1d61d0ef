package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// service is one entry of /etc/deviceinit/services.json.
type service struct {
	Name    string   `json:"name"`
	Argv    []string `json:"argv"`
	Restart bool     `json:"restart"`
}

// parseServices parses the services file written by the image builder.
func parseServices(b []byte) ([]service, error) {
	var s []service
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("deviceinit: services file: %w", err)
	}
	for i, sv := range s {
		if sv.Name == "" || len(sv.Argv) == 0 || sv.Argv[0] == "" {
			return nil, fmt.Errorf("deviceinit: services file: entry %d needs a name and an argv", i)
		}
	}
	return s, nil
}

// selfTest is what the kernel command line asks the device to test.
type selfTest struct {
	TCP      string        // host:port to exchange a line with
	Tone     float64       // Hz, 0 = none
	ToneLen  time.Duration // tone length
	PowerOff bool          // power off when done
}

func (t selfTest) enabled() bool { return t.TCP != "" || t.Tone > 0 }

// parseCmdline reads devicetest.* flags from a kernel command line.
func parseCmdline(cmdline string) (selfTest, error) {
	t := selfTest{ToneLen: 1500 * time.Millisecond}
	for _, f := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !strings.HasPrefix(k, "devicetest.") {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "devicetest.tcp":
			if !strings.Contains(v, ":") {
				return t, fmt.Errorf("deviceinit: devicetest.tcp=%q: want HOST:PORT", v)
			}
			t.TCP = v
		case "devicetest.tone":
			hz, err := strconv.ParseFloat(v, 64)
			if err != nil || hz <= 0 || hz > 20000 {
				return t, fmt.Errorf("deviceinit: devicetest.tone=%q: want a frequency in Hz (1-20000)", v)
			}
			t.Tone = hz
		case "devicetest.ms":
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 || ms > 60000 {
				return t, fmt.Errorf("deviceinit: devicetest.ms=%q: want milliseconds (1-60000)", v)
			}
			t.ToneLen = time.Duration(ms) * time.Millisecond
		case "devicetest.poweroff":
			t.PowerOff = v == "1" || v == "true"
		}
	}
	return t, nil
}
