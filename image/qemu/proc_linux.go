package qemu

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts QEMU in its own process group and kills it if we die.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate asks QEMU to exit cleanly.
func terminate(cmd *exec.Cmd) { cmd.Process.Signal(syscall.SIGTERM) }

// kill kills QEMU's process group.
func kill(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
