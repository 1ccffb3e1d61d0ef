// Command update is the device's update service (SYSGEN_UPDATE):
//
//	update serve [-config /etc/settings.json]
//
// It listens on update.listen for signed bundles (sysgen update sends them),
// verifies each against update.public_key, writes the slot the device is not
// running from on the EFI system partition mounted at update.esp (the device
// init mounts it), gives it one trial boot and reboots.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/feature/settings"
	"github.com/oemkit/messenger/feature/update"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: update serve [-config /etc/settings.json]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("update serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", settings.Path, "the device's settings file (update.* keys)")
	if err := fs.Parse(args[1:]); err != nil {
		os.Exit(2)
	}
	set, err := settings.Load(*config)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	keyText, err := set.Text("update.public_key")
	if err != nil && !settings.IsUnset(err) {
		return fmt.Errorf("update: %w", err)
	}
	key, err := update.ParsePublicKey(keyText)
	if err != nil {
		return err
	}
	listen, err := set.Text("update.listen")
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	esp, err := set.Text("update.esp")
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	version, err := set.Text("update.version")
	if err != nil && !settings.IsUnset(err) {
		return fmt.Errorf("update: %w", err)
	}
	if _, err := update.ParseVersion(version); err != nil {
		return fmt.Errorf("%w (update.version of this system)", err)
	}
	allowDown, err := set.Bool("update.allow_downgrade")
	if err != nil && !settings.IsUnset(err) {
		return fmt.Errorf("update: %w", err)
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	running := update.SlotOf(string(cmdline))
	if running == "" {
		return errors.New("update: this system did not boot from a disk slot (no sysgen.slot= on the kernel command line): updates need the flashed disk image (sysgen flash, or boot disk.img)")
	}
	var man struct {
		BSP string `json:"bsp"`
	}
	if b, err := os.ReadFile(filepath.Join(esp, "slot-"+running, update.FileManifest)); err != nil {
		return fmt.Errorf("update: read the running slot's manifest: %w (is the ESP mounted on %s?)", err, esp)
	} else if err := json.Unmarshal(b, &man); err != nil || man.BSP == "" {
		return fmt.Errorf("update: the running slot's manifest names no board: %v", err)
	}
	svc := &update.Service{
		Key: key, Board: man.BSP, ESP: esp, Running: running,
		Version: version, AllowDowngrade: allowDown,
		Log: func(s string) { fmt.Fprintln(stdout, "update: "+s) },
		Reboot: func() {
			unix.Sync()
			if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
				fmt.Fprintf(stderr, "update: reboot: %v\n", err)
			}
		},
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("update: listen on %s (update.listen): %w", listen, err)
	}
	fmt.Fprintf(stdout, "update: listening on %s for signed bundles (board %s, running slot %s, version %s)\n", l.Addr(), man.BSP, running, update.VersionText(version))
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 30 * time.Second, ReadTimeout: 10 * time.Minute}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}
