package image

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := MessengerSpec("qemu-x86_64")
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(messenger spec) = %v, want nil", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Spec)
	}{
		{"no BSP", func(s *Spec) { s.BSP = "" }},
		{"bad GOARCH", func(s *Spec) { s.GOARCH = "riscv64" }},
		{"bad sha256", func(s *Spec) { s.Kernel.SHA256 = "abc" }},
		{"no kernel version", func(s *Spec) { s.Kernel.Version = "" }},
		{"absolute vmlinuz", func(s *Spec) { s.Kernel.Vmlinuz = "/boot/vmlinuz" }},
		{"no qemu", func(s *Spec) { s.QEMU = nil }},
		{"negative budget", func(s *Spec) { s.Budget = -1 }},
		{"bad compression", func(s *Spec) { s.Compression = "lz4" }},
		{"bad feature", func(s *Spec) { s.Features = append(s.Features, "messenger") }},
		{"bad command", func(s *Spec) { s.Commands = []Command{{Pkg: "./cmds/*"}} }},
		{"relative file", func(s *Spec) { s.Files = []File{{Data: []byte("x"), Dst: "etc/x"}} }},
		{"file twice", func(s *Spec) {
			s.Files = []File{{Data: []byte("x"), Dst: "/etc/x"}, {Data: []byte("y"), Dst: "/etc/x"}}
		}},
		{"file without content", func(s *Spec) { s.Files = []File{{Dst: "/etc/x"}} }},
		{"shell not a command", func(s *Spec) { s.Shell = "example.com/notacommand" }},
		{"bad build tag", func(s *Spec) { s.Tags = append(s.Tags, "a b") }},
		{"file over settings", func(s *Spec) { s.Files = []File{{Data: []byte("{}"), Dst: SettingsPath}} }},
		{"bad module", func(s *Spec) { s.Modules = []Module{{Name: "virtio net"}} }},
		{"service without argv", func(s *Spec) { s.Services = []Service{{Name: "msmsgs"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MessengerSpec("qemu-x86_64")
			tc.edit(&s)
			if err := s.Validate(); !errors.Is(err, ErrSpec) {
				t.Errorf("Validate() = %v, want ErrSpec", err)
			}
		})
	}
}

func TestBuildTag(t *testing.T) {
	for in, want := range map[string]string{
		"SYSGEN_MESSENGER": "sysgen_messenger",
		"SYSGEN_AUDIO_HDA": "sysgen_audio_hda",
		"SHELL":            "sysgen_shell",
	} {
		if got := BuildTag(in); got != want {
			t.Errorf("BuildTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoCommands(t *testing.T) {
	const gosh = "github.com/u-root/u-root/cmds/core/gosh"
	s := Spec{Features: []string{"SYSGEN_SHELL", "SYSGEN_MESSENGER"}, Tags: []string{"goshsmall"}, Shell: gosh,
		Commands: []Command{{Pkg: "example.com/msmsgs", Feature: "SYSGEN_MESSENGER"}, {Pkg: InitPkg, Feature: "SYSGEN_COREOS"},
			{Pkg: gosh, Feature: "SYSGEN_SHELL"}}}
	cmds, tags := s.goCommands()
	var pkgs []string
	for _, c := range cmds {
		pkgs = append(pkgs, c.Pkg+"="+c.Feature)
	}
	want := []string{InitPkg + "=SYSGEN_COREOS", DeviceInitPkg + "=base", "example.com/msmsgs=SYSGEN_MESSENGER", gosh + "=SYSGEN_SHELL"}
	if strings.Join(pkgs, " ") != strings.Join(want, " ") {
		t.Errorf("goCommands() = %v, want %v", pkgs, want)
	}
	if got := strings.Join(tags, " "); got != "goshsmall sysgen_messenger sysgen_shell" {
		t.Errorf("goCommands() tags = %v, want [goshsmall sysgen_messenger sysgen_shell]", tags)
	}
}
