package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// File is a loaded settings file. Its accessors are safe for concurrent use.
type File struct {
	name   string
	values map[string]any

	mu    sync.Mutex
	reads map[string]Type
}

// Load reads and parses the settings file at path (Path on a device). A
// missing file is an error wrapping fs.ErrNotExist.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("settings: reading %s: %w", path, err)
	}
	return Parse(path, data)
}

var (
	deviceOnce sync.Once
	device     *File
	deviceErr  error
)

// Device returns the device's settings file (Path), read once per process:
// the device init and the drivers it binds share it.
func Device() (*File, error) {
	deviceOnce.Do(func() { device, deviceErr = Load(Path) })
	return device, deviceErr
}

// Parse parses a settings file: one JSON object of flat dotted keys whose
// values are numbers, bools, strings or lists of strings, each at most
// MaxValueSize bytes. name is used in errors.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("settings: %s is larger than %d bytes: keep the settings file small (it holds flat keys, not data)", name, MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("settings: %s: not a JSON object of settings: %v", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("settings: %s: text after the settings object", name)
	}
	if raw == nil {
		return nil, fmt.Errorf("settings: %s: not a JSON object of settings", name)
	}
	f := &File{name: name, values: make(map[string]any, len(raw)), reads: map[string]Type{}}
	for k, v := range raw {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				f.values[k] = i
			} else if fl, err := x.Float64(); err == nil {
				f.values[k] = fl
			} else {
				return nil, fmt.Errorf("settings: %s: %q: number %s out of range", name, k, x)
			}
		case string:
			if len(x) > MaxValueSize {
				return nil, fmt.Errorf("settings: %s: %q holds %d bytes, more than %d", name, k, len(x), MaxValueSize)
			}
			f.values[k] = x
		case bool, []any:
			f.values[k] = x
		case nil:
		default:
			return nil, fmt.Errorf("settings: %s: %q holds a table; settings are flat dotted keys", name, k)
		}
	}
	return f, nil
}

// Name is where the file was read from.
func (f *File) Name() string { return f.name }

// Keys returns the keys in the file, sorted.
func (f *File) Keys() []string {
	out := make([]string, 0, len(f.values))
	for k := range f.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Len is the number of keys in the file.
func (f *File) Len() int { return len(f.values) }

// Reads returns each key read so far with the type it was read as.
func (f *File) Reads() map[string]Type {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Type, len(f.reads))
	for k, t := range f.reads {
		out[k] = t
	}
	return out
}

// get returns key's value normalized to t.
func (f *File) get(key string, t Type) (any, error) {
	f.mu.Lock()
	f.reads[key] = t
	f.mu.Unlock()
	v, ok := f.values[key]
	if !ok {
		return nil, fmt.Errorf("settings: %s: %w in %s (the item that declares it is not in the design, or the image predates it: rebuild with sysgen build)", key, ErrUnset, f.name)
	}
	n, err := t.Normalize(v)
	if err != nil {
		return nil, fmt.Errorf("settings: %s in %s: %w", key, f.name, err)
	}
	return n, nil
}

// Int returns an int setting.
func (f *File) Int(key string) (int64, error) {
	v, err := f.get(key, Int)
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// Bool returns a bool setting.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.get(key, Bool)
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// Text returns a string setting.
func (f *File) Text(key string) (string, error) {
	v, err := f.get(key, String)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Duration returns a duration setting.
func (f *File) Duration(key string) (time.Duration, error) {
	v, err := f.get(key, Duration)
	if err != nil {
		return 0, err
	}
	return ParseDuration(v.(string))
}

// HostPort returns a host:port setting, checked.
func (f *File) HostPort(key string) (string, error) {
	v, err := f.get(key, HostPort)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// List returns a list-of-strings setting.
func (f *File) List(key string) ([]string, error) {
	v, err := f.get(key, Strings)
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// PortRange returns a port-range setting.
func (f *File) PortRange(key string) (Ports, error) {
	v, err := f.get(key, PortRange)
	if err != nil {
		return Ports{}, err
	}
	return ParsePortRange(v.(string))
}

// IsUnset reports whether err says a key is not in the file.
func IsUnset(err error) bool { return errors.Is(err, ErrUnset) }
