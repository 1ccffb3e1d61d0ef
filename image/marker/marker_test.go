package marker

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		line, name, payload string
		ok                  bool
	}{
		{`DEVICE-READY {"uptime_ms":12}`, Ready, `{"uptime_ms":12}`, true},
		{"[    1.2] random: DEVICEINIT-START {}\r", Start, "{}", true},
		{"DEVICE-TEST", Test, "", true},
		{"Welcome to u-root!", "", "", false},
		{"", "", "", false},
	} {
		name, payload, ok := Parse(c.line)
		if name != c.name || payload != c.payload || ok != c.ok {
			t.Errorf("Parse(%q) = %q, %q, %v, want %q, %q, %v", c.line, name, payload, ok, c.name, c.payload, c.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`DEVICE-READY {"uptime_ms":12}`)
	f.Add("xxDEVICE")
	f.Fuzz(func(t *testing.T, line string) {
		name, payload, ok := Parse(line)
		if ok && (len(name) < len(prefix) || name[:len(prefix)] != prefix || len(name)+len(payload) > len(line)) {
			t.Fatalf("Parse(%q) = %q, %q", line, name, payload)
		}
	})
}
