package update

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Service is the device's update endpoint:
//
//	POST /update   body: a bundle. Verified, written to the other slot,
//	               answered with one line per step, then the device reboots.
//	GET  /status   JSON: running slot and the loader entries.
//
// There is no password: only a bundle signed with the OEM key is written.
type Service struct {
	// Key verifies bundles.
	Key ed25519.PublicKey
	// Board is this device's BSP; bundles for others are refused.
	Board string
	// ESP is where the EFI system partition is mounted; Running the slot
	// the system booted from.
	ESP, Running string
	// Version is the running system's update.version; AllowDowngrade its
	// update.allow_downgrade (CheckVersion).
	Version        string
	AllowDowngrade bool
	// Reboot restarts the device once an update is written (after the
	// answer is sent).
	Reboot func()
	// Log hears each step (the console).
	Log func(string)

	mu sync.Mutex // one update at a time
}

// Status is GET /status.
type Status struct {
	Board   string  `json:"board"`
	Running string  `json:"running"`
	Version string  `json:"version"`
	Entries []Entry `json:"entries"`
	Error   string  `json:"error,omitempty"`
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/status":
		st := Status{Board: s.Board, Running: s.Running, Version: VersionText(s.Version)}
		ents, err := Entries(s.ESP)
		if err != nil {
			st.Error = err.Error()
		}
		st.Entries = ents
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	case "/update":
		if r.Method != http.MethodPost {
			http.Error(w, "update: POST a bundle to /update (sysgen update does)", http.StatusMethodNotAllowed)
			return
		}
		s.update(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Service) log(msg string) {
	if s.Log != nil {
		s.Log(msg)
	}
}

func (s *Service) update(w http.ResponseWriter, r *http.Request) {
	if !s.mu.TryLock() {
		http.Error(w, "update: another update is being written; wait for the device to reboot", http.StatusConflict)
		return
	}
	defer s.mu.Unlock()
	start := time.Now()
	s.log(fmt.Sprintf("receiving a bundle from %s", r.RemoteAddr))
	body := http.MaxBytesReader(w, r.Body, MaxBundle+MaxHeader+1024)
	b, err := Read(body, s.Key, s.Board, MaxBundle)
	if err != nil {
		var mbe *http.MaxBytesError
		code := http.StatusBadRequest
		if errors.As(err, &mbe) {
			code = http.StatusRequestEntityTooLarge
		}
		s.log("refused: " + err.Error())
		http.Error(w, err.Error(), code)
		return
	}
	other, err := OtherVersion(s.ESP, s.Running)
	if err == nil {
		err = CheckVersion(b.Header.Version, s.Version, other, s.AllowDowngrade)
	}
	if err != nil {
		s.log("refused: " + err.Error())
		code := http.StatusInternalServerError
		if errors.Is(err, ErrDowngrade) {
			code = http.StatusConflict
		}
		http.Error(w, err.Error(), code)
		return
	}
	s.log(fmt.Sprintf("bundle verified: image %.12s version %s for %s, %d files, received in %v", b.Header.Image, VersionText(b.Header.Version), b.Header.Board, len(b.Files), time.Since(start).Round(time.Millisecond)))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	say := func(msg string) {
		s.log(msg)
		fmt.Fprintln(w, msg)
		if fl != nil {
			fl.Flush()
		}
	}
	say("verified: signature and file hashes match")
	e, err := Install(s.ESP, s.Running, b, say)
	if err != nil {
		say("FAILED: " + err.Error())
		return
	}
	say(fmt.Sprintf("OK: rebooting into slot %s for its trial boot (generation %d); it stays only if its health checks pass", e.Slot, e.Generation))
	if s.Reboot != nil {
		go func() {
			time.Sleep(500 * time.Millisecond) // let the answer leave
			s.Reboot()
		}()
	}
}
