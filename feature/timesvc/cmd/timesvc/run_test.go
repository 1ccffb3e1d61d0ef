package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature/timesvc/timesvctest"
)

func runCmd(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestQueryCommand(t *testing.T) {
	c := timesvctest.StartChrony(t)
	out, _, err := runCmd("query", "-config", filepath.Join(t.TempDir(), "none.json"), "-server", c.Addr)
	if err != nil {
		t.Fatalf("timesvc query -server %s = %v", c.Addr, err)
	}
	if !strings.HasPrefix(out, "server "+c.Addr+" offset ") || !strings.Contains(out, "stratum 10") {
		t.Errorf("timesvc query output = %q, want the server, offset and stratum 10", out)
	}
	// The server from the settings file.
	cfg := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(cfg, []byte(`{"timesvc.server":"`+c.Addr+`","msmsgs.server":"10.0.2.2:1863"}`), 0o644)
	if out, _, err := runCmd("query", "-config", cfg); err != nil || !strings.Contains(out, c.Addr) {
		t.Errorf("timesvc query -config = %q, %v", out, err)
	}
}

func TestStatusCommand(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "status.json")
	if _, _, err := runCmd("status", "-status", p); err == nil || !strings.Contains(err.Error(), "SYSGEN_TIMESVC") {
		t.Errorf("timesvc status without a status file = %v, want an error naming SYSGEN_TIMESVC", err)
	}
	os.WriteFile(p, []byte(`{"server":"10.0.2.2:123","synced":true,"action":"step","offset_ns":5000000000,"offset":"5s","polls":1}`), 0o644)
	out, _, err := runCmd("status", "-status", p)
	if err != nil || !strings.Contains(out, "synced true last offset 5s (step)") {
		t.Errorf("timesvc status = %q, %v", out, err)
	}
	os.WriteFile(p, []byte(`{"server":"10.0.2.2:123","synced":false,"polls":3,"failures":3,"error":"no reply"}`), 0o644)
	if _, _, err := runCmd("status", "-status", p); err == nil || !strings.Contains(err.Error(), "not synced") || !strings.Contains(err.Error(), "no reply") {
		t.Errorf("timesvc status (not synced) = %v, want an error with the last poll's", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frob"}, {"status", "extra"}, {"query", "-bogus"}} {
		_, _, err := runCmd(args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("timesvc %q = %v, want a usage error", args, err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(cfg, []byte(`{"timesvc.server":"x","timesvc.poll_min":"3s"}`), 0o644)
	if _, _, err := runCmd("daemon", "-config", cfg, "-status", filepath.Join(t.TempDir(), "s.json")); err == nil || !strings.Contains(err.Error(), "timesvc.poll_min") {
		t.Errorf("timesvc daemon with poll_min 3 = %v, want an error naming timesvc.poll_min", err)
	}
}
