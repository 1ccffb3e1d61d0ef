package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
)

// TestVoiceOnlyWithRTC builds msmsgs as the image does, with and without
// SYSGEN_RTC's build tag, and checks with go tool nm that the RTC stack
// (feature/rtc, msmsgs/voice) is linked in only with it.
func TestVoiceOnlyWithRTC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds msmsgs twice")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tag := image.BuildTag("SYSGEN_RTC")
	if tag != "sysgen_rtc" {
		t.Fatalf("image.BuildTag(SYSGEN_RTC) = %q; the voice files are tagged sysgen_rtc", tag)
	}
	syms := func(tags string) string {
		bin := filepath.Join(t.TempDir(), "msmsgs")
		args := []string{"build", "-trimpath", "-o", bin}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command("go", append(args, "./msmsgs")...)
		cmd.Dir = root
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -tags %q ./msmsgs: %v\n%s", tags, err, out)
		}
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm: %v", err)
		}
		return string(out)
	}
	const rtcPkg, voicePkg = "github.com/oemkit/messenger/feature/rtc.", "github.com/oemkit/messenger/msmsgs/voice."
	with, without := syms("sysgen_messenger,"+tag), syms("sysgen_messenger")
	for _, p := range []string{rtcPkg, voicePkg, "github.com/oemkit/messenger/feature/rtc/media.", "github.com/oemkit/messenger/feature/rtc/audio/device."} {
		if !strings.Contains(with, p) {
			t.Errorf("msmsgs built with %s has no %s symbols", tag, strings.TrimSuffix(p, "."))
		}
	}
	for _, p := range []string{rtcPkg, voicePkg, "github.com/oemkit/messenger/feature/rtc/", "github.com/emiago/sipgo"} {
		if strings.Contains(without, p) {
			t.Errorf("msmsgs built without %s links %s", tag, strings.TrimSuffix(p, "."))
		}
	}
}
