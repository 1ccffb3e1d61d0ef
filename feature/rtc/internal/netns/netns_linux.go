// Package netns lets a test run itself inside a private network namespace
// (unshare -n) so that peers binding 0.0.0.0 stay on the test's own
// loopback device.
package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// EnvVar is set in the re-executed child.
const EnvVar = "RTC_TEST_NETNS"

// Inside reports whether this process is the re-executed child.
func Inside() bool { return os.Getenv(EnvVar) == "1" }

// ErrUnsupported is returned when no namespace can be created here.
var ErrUnsupported = errors.New("netns: cannot create a network namespace (need root or unprivileged user namespaces, and util-linux unshare)")

// unshareArgs returns the unshare flags that work here: -n as root, -rn
// (a user namespace mapping us to root) otherwise.
func unshareArgs(ctx context.Context) ([]string, error) {
	path, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("%w: unshare not found; install util-linux", ErrUnsupported)
	}
	for _, flags := range [][]string{{"-n"}, {"-r", "-n"}} {
		args := append([]string{path}, flags...)
		if exec.CommandContext(ctx, args[0], append(args[1:], "true")...).Run() == nil {
			return args, nil
		}
	}
	return nil, ErrUnsupported
}

// Command returns a command that runs argv inside a new network namespace
// with EnvVar=1 in its environment.
func Command(ctx context.Context, argv ...string) (*exec.Cmd, error) {
	pre, err := unshareArgs(ctx)
	if err != nil {
		return nil, err
	}
	all := append(append(pre, "--"), argv...)
	cmd := exec.CommandContext(ctx, all[0], all[1:]...)
	cmd.Env = append(os.Environ(), EnvVar+"=1")
	return cmd, nil
}

// LoopbackUp brings the namespace's lo interface up.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netns: get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netns: set lo up: %w", err)
	}
	return nil
}
