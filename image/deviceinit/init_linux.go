package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/driver/driverreg"

	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/feature/settings"
)

// servicesPath is the services file the image builder writes; the settings
// file is settings.Path.
const servicesPath = "/etc/deviceinit/services.json"

// console writes marker lines; it is safe for concurrent use through mu.
type console struct {
	w io.Writer
}

func (c console) emit(marker string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	fmt.Fprintf(c.w, "%s %s\n", marker, b)
}

// uptimeMS reads the time since boot from /proc/uptime.
func uptimeMS() int64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return int64(s * 1000)
}

// driverReport is the DEVICE-DRIVERS line.
type driverReport struct {
	Loaded  []string          `json:"loaded"`
	Skipped map[string]string `json:"skipped"`
	Failed  map[string]string `json:"failed"`
	Error   string            `json:"error,omitempty"`
	TookMS  int64             `json:"took_ms"`
	// InitMS is each driver's own Init time (drivers/inittime).
	InitMS map[string]int64 `json:"init_ms,omitempty"`
}

func loadDrivers() driverReport {
	start := time.Now()
	r := driverReport{Loaded: []string{}, Skipped: map[string]string{}, Failed: map[string]string{}}
	st, err := driverreg.Init()
	if err != nil {
		r.Error = err.Error()
	}
	if st != nil {
		for _, d := range st.Loaded {
			r.Loaded = append(r.Loaded, d.String())
		}
		for _, d := range st.Skipped {
			r.Skipped[d.D.String()] = errString(d.Err)
		}
		for _, d := range st.Failed {
			r.Failed[d.D.String()] = errString(d.Err)
		}
	}
	r.TookMS = time.Since(start).Milliseconds()
	r.InitMS = map[string]int64{}
	for name, d := range inittime.All() {
		r.InitMS[name] = d.Milliseconds()
	}
	return r
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// iface is one network interface in the ready report.
type iface struct {
	Name  string   `json:"name"`
	MAC   string   `json:"mac,omitempty"`
	Up    bool     `json:"up"`
	Addrs []string `json:"addrs"`
}

func interfaces() []iface {
	var out []iface
	ifs, err := net.Interfaces()
	if err != nil {
		return out
	}
	for _, i := range ifs {
		x := iface{Name: i.Name, MAC: i.HardwareAddr.String(), Up: i.Flags&net.FlagUp != 0, Addrs: []string{}}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			x.Addrs = append(x.Addrs, a.String())
		}
		out = append(out, x)
	}
	return out
}

// readyReport is the DEVICE-READY line.
type readyReport struct {
	UptimeMS     int64    `json:"uptime_ms"`
	InitMS       int64    `json:"init_ms"`
	Interfaces   []iface  `json:"interfaces"`
	Settings     int      `json:"settings_keys"`
	SettingsErr  string   `json:"settings_error,omitempty"`
	Services     []string `json:"services"`
	ServicesErr  string   `json:"services_error,omitempty"`
	AudioDevices []string `json:"audio_devices"`
	// State says where the persistent state partition is mounted, or why
	// state stays in RAM.
	State string `json:"state,omitempty"`
	// Boot is where the time from the device init's start to this report
	// went, phase by phase.
	Boot []bootPhase `json:"boot"`
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	con := console{w: stdout}
	clock := newBootClock()
	initMS := uptimeMS()
	con.emit(MarkerStart, map[string]any{"uptime_ms": initMS, "pid": os.Getpid()})

	// The drivers bind in parallel (periph's driverreg runs each stage's
	// drivers at once); the network driver returns once DHCP has put the
	// lease on the link, so nothing is waited for after it.
	drv := loadDrivers()
	clock.lap("drivers")
	con.emit(MarkerDrivers, drv)

	rep := readyReport{InitMS: initMS, Interfaces: interfaces(), Services: []string{}, AudioDevices: []string{}}
	// One load per process, shared with the drivers bound above.
	set, err := settings.Device()
	if err != nil {
		rep.SettingsErr = err.Error()
	} else {
		rep.Settings = set.Len()
	}
	clock.lap("settings")
	rep.State = mountState(set)
	clock.lap("state")
	var services []service
	if b, err := os.ReadFile(servicesPath); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			rep.ServicesErr = err.Error()
		}
	} else if services, err = parseServices(b); err != nil {
		rep.ServicesErr = err.Error()
	}
	for _, s := range services {
		rep.Services = append(rep.Services, s.Name)
	}
	if ents, err := os.ReadDir("/dev/snd"); err == nil {
		for _, e := range ents {
			rep.AudioDevices = append(rep.AudioDevices, e.Name())
		}
	}
	clock.lap("report")
	rep.Boot = clock.phases
	rep.UptimeMS = uptimeMS()
	con.emit(MarkerReady, rep)

	cmdline, _ := os.ReadFile("/proc/cmdline")
	test, err := parseCmdline(string(cmdline))
	if err != nil {
		con.emit(MarkerTest, map[string]any{"ok": false, "error": err.Error()})
	} else if test.enabled() {
		con.emit(MarkerTest, runSelfTest(ctx, test))
		if test.PowerOff {
			unix.Sync()
			if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
				fmt.Fprintf(stderr, "deviceinit: power off: %v\n", err)
			}
		}
	}

	checkSlot(ctx, con, drv, set, services)
	supervise(ctx, services, stdout, stderr)
	consoleShell(ctx, stdin, stdout, stderr)
	<-ctx.Done()
	return nil
}
