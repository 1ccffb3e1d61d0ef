//go:build !linux

package qemu

import (
	"os"
	"os/exec"
)

func setProcAttr(cmd *exec.Cmd) {}

func terminate(cmd *exec.Cmd) { cmd.Process.Signal(os.Interrupt) }

func kill(cmd *exec.Cmd) { cmd.Process.Kill() }
