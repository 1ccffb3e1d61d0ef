//go:build sysgen_update

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/drivers/kmod"
	"github.com/oemkit/messenger/feature/settings"
	"github.com/oemkit/messenger/feature/update"
)

// MarkerSlot reports the boot slot: which one runs, whether it is on
// trial, and how its health checks went.
const MarkerSlot = "DEVICE-SLOT"

// espLabel is the GPT name of the EFI system partition (image/disk.ESPLabel).
const espLabel = "ESP"

// slotReport is a DEVICE-SLOT line.
type slotReport struct {
	Slot       string `json:"slot"`
	Generation int    `json:"generation,omitempty"`
	// State: "good" (a marked-good slot booted), "trial" (health checks
	// running), "blessed" (the trial passed and marked itself good),
	// "failed" (the trial failed: rebooting into the old slot), "error".
	State          string `json:"state"`
	RolledBackFrom string `json:"rolled_back_from,omitempty"`
	Error          string `json:"error,omitempty"`
	TookMS         int64  `json:"took_ms,omitempty"`
}

// checkSlot mounts the EFI system partition when the device booted from a
// disk slot and, on a trial boot, runs the health checks in the background:
// every driver bound and, when the design runs msmsgs, Messenger signed
// in, within update.health_timeout. A pass marks the slot's loader entry
// good; a failure reboots, and the loader, whose boot counter for the
// entry is used up, starts the old slot.
func checkSlot(ctx context.Context, con console, drv driverReport, set *settings.File, services []service) {
	cmdline, _ := os.ReadFile("/proc/cmdline")
	slot := update.SlotOf(string(cmdline))
	if slot == "" || set == nil {
		startWatchdog(con, set, 0)
		return
	}
	rep := slotReport{Slot: slot, State: "error"}
	esp, err := set.Text("update.esp")
	if err == nil {
		err = mountESP(esp)
	}
	var ents []update.Entry
	if err == nil {
		ents, err = update.Entries(esp)
	}
	me, ok := update.Find(ents, slot)
	if err == nil && !ok {
		err = fmt.Errorf("no loader entry for slot %s", slot)
	}
	if err != nil {
		rep.Error = err.Error()
		con.emit(MarkerSlot, rep)
		startWatchdog(con, set, 0)
		return
	}
	rep.Generation = me.Generation
	if me.Good() {
		rep.State = "good"
		if o, ok := update.Find(ents, update.Other(slot)); ok && o.Failed() && o.Generation > me.Generation {
			// The other slot was an update whose trial did not pass.
			rep.RolledBackFrom = o.Slot
			if err := update.Forget(esp, o.Slot); err != nil {
				rep.Error = err.Error()
			}
		}
		con.emit(MarkerSlot, rep)
		startWatchdog(con, set, 0)
		return
	}
	rep.State = "trial"
	con.emit(MarkerSlot, rep)
	timeout, err := set.Duration("update.health_timeout")
	if err != nil || timeout <= 0 {
		timeout = 3 * time.Minute
	}
	// The watchdog is not kicked until the health check passes: a trial
	// that hangs from here on is reset, and the loader boots the old slot.
	wd := startWatchdog(con, set, timeout)
	if hang, _ := set.Bool("update.test_hang_trial"); hang {
		fmt.Fprintf(con.w, "deviceinit: update.test_hang_trial is set: this trial boot hangs before its health check (test only)\n")
		for {
			time.Sleep(time.Hour)
		}
	}
	go func() {
		start := time.Now()
		err := healthCheck(ctx, drv, services, timeout)
		rep.TookMS = time.Since(start).Milliseconds()
		if err == nil {
			var blessed bool
			if blessed, err = update.Bless(esp, slot); err == nil {
				unix.Sync()
				rep.State = "blessed"
				if !blessed {
					rep.State = "good"
				}
				con.emit(MarkerSlot, rep)
				wd.healthy()
				return
			}
		}
		rep.State, rep.Error = "failed", err.Error()
		con.emit(MarkerSlot, rep)
		if ctx.Err() != nil {
			return
		}
		unix.Sync()
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
			fmt.Fprintf(con.w, "deviceinit: reboot after the failed trial: %v\n", err)
		}
	}()
}

// healthCheck is what a trial boot must pass.
func healthCheck(ctx context.Context, drv driverReport, services []service, timeout time.Duration) error {
	if drv.Error != "" {
		return fmt.Errorf("health check: drivers: %s", drv.Error)
	}
	for name, why := range drv.Failed {
		return fmt.Errorf("health check: driver %s failed: %s", name, why)
	}
	for _, s := range services {
		if s.Name != "msmsgs" {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, lookPath("msmsgs"), "ctl", "wait-signin", "-timeout", timeout.String()).CombinedOutput()
		if err != nil {
			return fmt.Errorf("health check: msmsgs did not sign in within %v: %v: %s", timeout, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// mountESP loads the FAT modules and mounts the partition named ESP.
func mountESP(dir string) error {
	if idx, err := kmod.Open(); err != nil {
		return fmt.Errorf("mount the ESP: %w", err)
	} else if _, err := idx.Load(nil, "vfat", "nls_cp437", "nls_ascii"); err != nil {
		return fmt.Errorf("mount the ESP: %w", err)
	}
	p := partitionByName("/sys/class/block", espLabel)
	if p == "" {
		return fmt.Errorf("no partition named %s on the boot disk", espLabel)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("/dev/"+p, dir, "vfat", unix.MS_NOATIME, ""); err != nil {
		return fmt.Errorf("mount /dev/%s on %s: %w", p, dir, err)
	}
	return nil
}
