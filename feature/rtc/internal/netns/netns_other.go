//go:build !linux

// Package netns lets a test run itself inside a private network namespace;
// only Linux has them.
package netns

import (
	"context"
	"errors"
	"os/exec"
)

// EnvVar is set in the re-executed child.
const EnvVar = "RTC_TEST_NETNS"

// ErrUnsupported is returned on systems without network namespaces.
var ErrUnsupported = errors.New("netns: network namespaces need Linux")

// Inside reports whether this process is the re-executed child.
func Inside() bool { return false }

// Command always fails off Linux.
func Command(ctx context.Context, argv ...string) (*exec.Cmd, error) { return nil, ErrUnsupported }

// LoopbackUp always fails off Linux.
func LoopbackUp() error { return ErrUnsupported }
