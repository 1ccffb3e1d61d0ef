package main

import (
	"github.com/oemkit/messenger/feature/settings"

	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/oemkit/messenger/feature/timesvc"
)

// settingsPath is the merged settings file the image builder writes.
const settingsPath = settings.Path

// maxSettings bounds the settings file read.
const maxSettings = 1 << 20

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = "usage: timesvc daemon|status|query [flags] (timesvc CMD -h for the flags)"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	fs := flag.NewFlagSet("timesvc "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", settingsPath, "the device's settings file (timesvc.* keys)")
	server := fs.String("server", "", "SNTP server HOST[:PORT] (default: timesvc.server from -config)")
	status := fs.String("status", timesvc.StatusPath, "the status file the daemon writes")
	asJSON := fs.Bool("json", false, "status: print the status file as JSON")
	parse := func() error {
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return usageError{err.Error()}
		}
		if fs.NArg() > 0 {
			return usageError{fmt.Sprintf("timesvc %s: unexpected argument %q", args[0], fs.Arg(0))}
		}
		return nil
	}
	switch args[0] {
	case "daemon":
		if err := parse(); err != nil {
			return err
		}
		cfg, err := loadConfig(*config, *server)
		if err != nil {
			return err
		}
		cfg.StatusPath, cfg.Log = *status, stdout
		svc, err := timesvc.New(cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "timesvc: polling %s (step beyond %v, poll %v-%v)\n", timesvc.ServerAddr(cfg.Server), orDefault(cfg.StepThreshold, timesvc.DefaultStepThreshold), orDefault(cfg.MinPoll, timesvc.DefaultMinPoll), orDefault(cfg.MaxPoll, timesvc.DefaultMaxPoll))
		if err := svc.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case "status":
		if err := parse(); err != nil {
			return err
		}
		st, err := timesvc.ReadStatus(*status)
		if err != nil {
			return err
		}
		if *asJSON {
			b, _ := json.MarshalIndent(st, "", "  ")
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			fmt.Fprintf(stdout, "server %s synced %v last offset %s (%s) delay %v stratum %d last sync %s; boot offset %v set %d ms after start; polls %d failures %d\n",
				st.Server, st.Synced, st.Offset, st.Action, time.Duration(st.DelayNS), st.Stratum, st.LastSync.Format(time.RFC3339), time.Duration(st.BootOffsetNS), st.FirstSyncMS, st.Polls, st.Failures)
			if st.Error != "" {
				fmt.Fprintf(stdout, "last error: %s\n", st.Error)
			}
		}
		if !st.Synced {
			return fmt.Errorf("timesvc: the clock is not synced (server %s): %s", st.Server, orText(st.Error, "no successful poll yet"))
		}
		return nil
	case "query":
		if err := parse(); err != nil {
			return err
		}
		cfg, err := loadConfig(*config, *server)
		if err != nil {
			return err
		}
		if cfg.Server == "" {
			return errors.New("timesvc: no server: pass -server HOST[:PORT] or set timesvc.server")
		}
		s, err := timesvc.Query(ctx, cfg.Server, nil, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "server %s offset %v delay %v stratum %d\n", timesvc.ServerAddr(cfg.Server), s.Offset, s.Delay, s.Reply.Stratum)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("timesvc: unknown command %q; %s", args[0], usage)}
}

// loadConfig reads the timesvc.* settings; a -server flag wins. A missing
// settings file is fine when -server is given.
func loadConfig(path, server string) (timesvc.Config, error) {
	f, err := settings.Load(path)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist) && server != "":
		f, _ = settings.Parse("(no settings file)", []byte("{}"))
	case errors.Is(err, os.ErrNotExist):
		return timesvc.Config{}, fmt.Errorf("timesvc: %w (pass -config with the settings file, or -server)", err)
	default:
		return timesvc.Config{}, fmt.Errorf("timesvc: %w", err)
	}
	cfg, err := timesvc.ConfigFromSettings(f)
	if err != nil {
		return cfg, err
	}
	if server != "" {
		cfg.Server = server
	}
	return cfg, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
