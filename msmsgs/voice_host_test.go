package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The voice tests run msmsgs daemons built with SYSGEN_RTC's build tag
// (sysgen_rtc), as the image builds it, whatever tags the test binary has:
// so `go test ./msmsgs` (the README's command, no tags) runs them.

var (
	voiceBuildOnce sync.Once
	voiceBin       string
	voiceBuildErr  error
)

// voiceBinary builds msmsgs with -tags sysgen_rtc once per test binary.
func voiceBinary(t testing.TB) string {
	t.Helper()
	buildTool(t, "msmsgs") // makes buildDir
	voiceBuildOnce.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			voiceBuildErr = err
			return
		}
		voiceBin = filepath.Join(buildDir, "msmsgs-voice") // removed by TestMain
		cmd := exec.Command("go", "build", "-tags", "sysgen_rtc", "-o", voiceBin, "./msmsgs")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			voiceBuildErr = fmt.Errorf("go build -tags sysgen_rtc ./msmsgs: %v\n%s", err, out)
		}
	})
	if voiceBuildErr != nil {
		t.Fatal(voiceBuildErr)
	}
	return voiceBin
}

// voiceDaemon runs `msmsgs daemon` with voice (a sysgen_rtc build) against
// the lab with the settings file cfg, and returns its control socket.
func voiceDaemon(t testing.TB, ctx context.Context, l *lab, account, password, cfg string) string {
	t.Helper()
	bin := voiceBinary(t)
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	cmd := exec.CommandContext(ctx, bin, "daemon", "-server", l.r.Addr, "-nexus", l.r.Nexus, "-ca", l.r.CA,
		"-account", account, "-ctl", sock, "-reconnect-max", "400ms", "-config", cfg)
	cmd.Env = append(os.Environ(), "MSMSGS_PASSWORD="+password)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start msmsgs daemon %s: %v", account, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("daemon %s did not stop within 30s of an interrupt", account)
		}
		if strings.Contains(logs.String(), password) {
			t.Errorf("daemon %s log contains the password", account)
		}
		if t.Failed() {
			t.Logf("daemon %s log:\n%s", account, logs.String())
		}
	})
	return waitCtlSocket(t, account, sock, done, &logs)
}
