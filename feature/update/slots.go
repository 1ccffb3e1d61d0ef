package update

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Slots are "a" and "b". A slot is a folder on the EFI system partition
// (/slot-a, /slot-b) with the kernel, the initramfs and the image manifest,
// and one systemd-boot entry, /loader/entries/sysgen-GGGG-S[+L-D].conf:
// GGGG is the generation (systemd-boot boots the highest-sorting entry
// that has tries left), +L-D is systemd-boot's boot counter (L tries left,
// D done; the loader renames the file at each try). An entry without a
// counter is good; "+1-0" is a fresh update that gets one trial boot;
// "+0-1" is an update whose trial did not mark itself good, which the
// loader sorts after every other entry: the old slot boots.

// SlotOf returns the slot the running system booted from (sysgen.slot= on
// the kernel command line), or "" when it did not boot from a disk slot.
func SlotOf(cmdline string) string {
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "sysgen.slot="); ok && (v == "a" || v == "b") {
			return v
		}
	}
	return ""
}

// Other returns the slot that is not s.
func Other(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

// Entry is one loader entry of a slot.
type Entry struct {
	File       string
	Generation int
	Slot       string
	// Counted is true while the entry is on trial (a boot counter in its
	// name); Left and Done are the counter's tries left and done.
	Counted    bool
	Left, Done int
}

// Good reports whether the entry has been marked good.
func (e Entry) Good() bool { return !e.Counted }

// Failed reports whether the entry's trial boots are used up.
func (e Entry) Failed() bool { return e.Counted && e.Left == 0 }

var entryRE = regexp.MustCompile(`^sysgen-([0-9]{4})-([ab])(?:\+([0-9]{1,3})(?:-([0-9]{1,3}))?)?\.conf$`)

// ParseEntry reads a loader entry file name.
func ParseEntry(name string) (Entry, bool) {
	m := entryRE.FindStringSubmatch(name)
	if m == nil {
		return Entry{}, false
	}
	e := Entry{File: name, Slot: m[2]}
	e.Generation, _ = strconv.Atoi(m[1])
	if m[3] != "" {
		e.Counted = true
		e.Left, _ = strconv.Atoi(m[3])
		if m[4] != "" {
			e.Done, _ = strconv.Atoi(m[4])
		}
	}
	return e, true
}

// EntryFile is the loader entry file name for a slot's generation; tries
// > 0 gives it a boot counter of that many trial boots.
func EntryFile(slot string, generation, tries int) string {
	n := fmt.Sprintf("sysgen-%04d-%s", generation, slot)
	if tries > 0 {
		n += fmt.Sprintf("+%d-0", tries)
	}
	return n + ".conf"
}

// EntryText is the loader entry of a slot: its kernel, initramfs and
// command line, with sysgen.slot=S (by which the system knows its slot) and
// panic=10 (a system that panics, say for want of an init, reboots, and
// the loader's boot counter takes the device back to the other slot).
func EntryText(slot string, generation int, cmdline string) string {
	return fmt.Sprintf("title sysgen slot %s (generation %d)\nlinux /slot-%s/vmlinuz\ninitrd /slot-%s/initrd\noptions %s panic=10 sysgen.slot=%s\n",
		strings.ToUpper(slot), generation, slot, slot, strings.TrimSpace(cmdline), slot)
}

// EntriesDir is the loader entries folder inside the ESP.
const EntriesDir = "loader/entries"

// Entries lists the slot entries on the ESP mounted at esp, highest
// generation first.
func Entries(esp string) ([]Entry, error) {
	ents, err := os.ReadDir(filepath.Join(esp, EntriesDir))
	if err != nil {
		return nil, fmt.Errorf("update: loader entries: %w (is the EFI system partition mounted on %s?)", err, esp)
	}
	var out []Entry
	for _, d := range ents {
		if e, ok := ParseEntry(d.Name()); ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Generation > out[j].Generation })
	return out, nil
}

// Find returns the newest entry of slot.
func Find(entries []Entry, slot string) (Entry, bool) {
	for _, e := range entries {
		if e.Slot == slot {
			return e, true
		}
	}
	return Entry{}, false
}

// Bless marks the running slot's entry good: it renames the entry to drop
// the boot counter, as systemd-bless-boot does. It reports whether there
// was a counter to drop.
func Bless(esp, slot string) (bool, error) {
	ents, err := Entries(esp)
	if err != nil {
		return false, err
	}
	e, ok := Find(ents, slot)
	if !ok {
		return false, fmt.Errorf("update: no loader entry for slot %s on %s", slot, esp)
	}
	if !e.Counted {
		return false, nil
	}
	dir := filepath.Join(esp, EntriesDir)
	if err := os.Rename(filepath.Join(dir, e.File), filepath.Join(dir, EntryFile(slot, e.Generation, 0))); err != nil {
		return false, fmt.Errorf("update: mark slot %s good: %w", slot, err)
	}
	return true, syncDir(dir)
}

// Forget removes the entries of slot (a failed trial the loader already
// sorts last), so the loader menu and the next update start clean.
func Forget(esp, slot string) error {
	ents, err := Entries(esp)
	if err != nil {
		return err
	}
	dir := filepath.Join(esp, EntriesDir)
	for _, e := range ents {
		if e.Slot == slot {
			if err := os.Remove(filepath.Join(dir, e.File)); err != nil {
				return fmt.Errorf("update: remove entry %s: %w", e.File, err)
			}
		}
	}
	return syncDir(dir)
}

// Install writes a verified bundle into the slot the system is not
// running from and gives it a loader entry with one trial boot. The order
// keeps a power cut harmless at every step: the target's old entry goes
// first (from then on the loader sees only the running slot), then the
// files are written and synced, then the new entry appears by rename.
// progress, if set, hears each step.
func Install(esp, running string, b *Bundle, progress func(string)) (Entry, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if running != "a" && running != "b" {
		return Entry{}, errors.New("update: the running system did not boot from a disk slot (no sysgen.slot= on its command line); flash the disk image first (sysgen flash)")
	}
	target := Other(running)
	ents, err := Entries(esp)
	if err != nil {
		return Entry{}, err
	}
	gen := 0
	for _, e := range ents {
		gen = max(gen, e.Generation)
	}
	gen++
	if gen > 9999 {
		return Entry{}, errors.New("update: generation 9999 reached; reflash the device")
	}
	progress(fmt.Sprintf("removing the loader entry of slot %s", target))
	if err := Forget(esp, target); err != nil {
		return Entry{}, err
	}
	dir := filepath.Join(esp, "slot-"+target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Entry{}, fmt.Errorf("update: %w", err)
	}
	for _, f := range b.Header.Files {
		progress(fmt.Sprintf("writing slot %s: %s (%d bytes)", target, f.Name, f.Size))
		if err := writeSynced(filepath.Join(dir, f.Name), b.Files[f.Name]); err != nil {
			return Entry{}, fmt.Errorf("update: write slot %s: %w (the running slot %s still boots; free space on the ESP or try again)", target, err, running)
		}
	}
	if _, ok := b.Files[FileManifest]; !ok {
		os.Remove(filepath.Join(dir, FileManifest))
	}
	if err := writeSynced(filepath.Join(dir, VersionFile), []byte(VersionText(b.Header.Version)+"\n")); err != nil {
		return Entry{}, fmt.Errorf("update: write slot %s: %w (the running slot %s still boots; free space on the ESP or try again)", target, err, running)
	}
	if err := syncDir(dir); err != nil {
		return Entry{}, err
	}
	name := EntryFile(target, gen, 1)
	entries := filepath.Join(esp, EntriesDir)
	tmp := filepath.Join(entries, "new.tmp")
	if err := writeSynced(tmp, []byte(EntryText(target, gen, b.Header.Cmdline))); err != nil {
		return Entry{}, fmt.Errorf("update: loader entry: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(entries, name)); err != nil {
		os.Remove(tmp)
		return Entry{}, fmt.Errorf("update: loader entry: %w", err)
	}
	if err := syncDir(entries); err != nil {
		return Entry{}, err
	}
	progress(fmt.Sprintf("slot %s written: generation %d, one trial boot (%s)", target, gen, name))
	e, _ := ParseEntry(name)
	return e, nil
}

func writeSynced(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	defer d.Close()
	// vfat may not support fsync on folders; the files were synced.
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !strings.Contains(err.Error(), "invalid argument") {
		return fmt.Errorf("update: sync %s: %w", dir, err)
	}
	return nil
}
