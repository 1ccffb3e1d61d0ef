package feature

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestScanUnreadableFolder: a folder the loader cannot read is an error,
// not a silently smaller catalog. Root reads every folder, so as root the
// test runs itself again as the unprivileged user nobody (CI runs as root).
func TestScanUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestScanUnreadableFolder")
		return
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "locked")
	if err := os.Mkdir(sub, 0o000); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(sub, 0o755)
	if _, err := scan(dir); err == nil {
		t.Error("scan of a tree with an unreadable folder: no error")
	}
}

// runAsNobody runs test again in a copy of this test binary as uid and gid
// 65534 and fails when it fails.
func runAsNobody(t *testing.T, test string) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "feature.test")
	if err := copyExecutable(self, bin); err != nil {
		t.Fatal(err)
	}
	// The copy's folders must be reachable for nobody.
	for d := filepath.Dir(bin); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run", "^"+test+"$", "-test.v")
	cmd.Dir = "/"
	cmd.Env = []string{"TMPDIR=" + os.TempDir(), "HOME=/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as nobody: %v\n%s", test, err, out)
	}
	t.Logf("%s as nobody:\n%s", test, out)
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
