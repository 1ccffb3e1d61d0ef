package qemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// Monitor is a QMP connection to a running QEMU (start QEMU with
// MonitorArgs). Tests type on the guest's keyboard with SendKeys and read
// its screen with ScreenDump.
type Monitor struct {
	conn net.Conn
	r    *bufio.Reader
}

// MonitorArgs are the QEMU arguments that open a QMP socket at path.
func MonitorArgs(path string) []string {
	return []string{"-qmp", "unix:" + path + ",server=on,wait=off"}
}

// DialMonitor connects to the QMP socket at path, waiting up to timeout
// for QEMU to create it, and negotiates capabilities.
func DialMonitor(ctx context.Context, path string, timeout time.Duration) (*Monitor, error) {
	deadline := time.Now().Add(timeout)
	var conn net.Conn
	for {
		var err error
		var d net.Dialer
		conn, err = d.DialContext(ctx, "unix", path)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("qemu: monitor %s: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := &Monitor{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	if _, err := m.read(); err != nil { // greeting
		conn.Close()
		return nil, err
	}
	if _, err := m.Execute("qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return m, nil
}

// Close closes the connection.
func (m *Monitor) Close() error { return m.conn.Close() }

// maxQMPLine bounds one QMP reply.
const maxQMPLine = 1 << 20

func (m *Monitor) read() (map[string]json.RawMessage, error) {
	for {
		m.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		var line []byte
		for {
			chunk, isPrefix, err := m.r.ReadLine()
			if err != nil {
				return nil, fmt.Errorf("qemu: monitor: %w", err)
			}
			line = append(line, chunk...)
			if len(line) > maxQMPLine {
				return nil, errors.New("qemu: monitor: reply longer than 1 MiB")
			}
			if !isPrefix {
				break
			}
		}
		var msg map[string]json.RawMessage
		if err := json.Unmarshal(line, &msg); err != nil {
			return nil, fmt.Errorf("qemu: monitor: bad reply %q: %w", line, err)
		}
		if _, ev := msg["event"]; ev {
			continue // asynchronous events are not answers
		}
		return msg, nil
	}
}

// Execute runs one QMP command and returns its "return" value.
func (m *Monitor) Execute(cmd string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": cmd}
	if args != nil {
		req["arguments"] = args
	}
	b, _ := json.Marshal(req)
	m.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := m.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qemu: monitor %s: %w", cmd, err)
	}
	msg, err := m.read()
	if err != nil {
		return nil, err
	}
	if e, ok := msg["error"]; ok {
		return nil, fmt.Errorf("qemu: monitor %s: %s", cmd, e)
	}
	return msg["return"], nil
}

// qcodes maps the characters SendKeys types to QEMU key names (US
// layout); shifted characters are sent with shift held.
var qcodes = func() map[rune][2]string {
	m := map[rune][2]string{' ': {"spc", ""}, '\n': {"ret", ""}}
	for c := 'a'; c <= 'z'; c++ {
		m[c] = [2]string{string(c), ""}
		m[c-'a'+'A'] = [2]string{string(c), "shift"}
	}
	for c := '0'; c <= '9'; c++ {
		m[c] = [2]string{string(c), ""}
	}
	for c, k := range map[rune]string{'-': "minus", '=': "equal", '[': "bracket_left", ']': "bracket_right",
		';': "semicolon", '\'': "apostrophe", ',': "comma", '.': "dot", '/': "slash", '\\': "backslash", '`': "grave_accent"} {
		m[c] = [2]string{k, ""}
	}
	for c, k := range map[rune]string{'!': "1", '@': "2", '#': "3", '$': "4", '%': "5", '^': "6", '&': "7", '*': "8",
		'(': "9", ')': "0", '_': "minus", '+': "equal", ':': "semicolon", '"': "apostrophe", '<': "comma", '>': "dot", '?': "slash"} {
		m[c] = [2]string{k, "shift"}
	}
	return m
}()

// SendKeys types text on the guest's keyboard, one key press each, with
// a pause between presses so a slow (TCG) guest sees every one.
func (m *Monitor) SendKeys(ctx context.Context, text string) error {
	for _, c := range text {
		k, ok := qcodes[c]
		if !ok {
			return fmt.Errorf("qemu: SendKeys: no key for %q", c)
		}
		if err := m.SendKey(ctx, k[1], k[0]); err != nil {
			return err
		}
	}
	return nil
}

// SendKey presses and releases the named keys together (QEMU qcodes, e.g.
// "ret", "esc", "f2", "down"; "" entries are left out).
func (m *Monitor) SendKey(ctx context.Context, keys ...string) error {
	var ks []map[string]string
	for _, k := range keys {
		if k != "" {
			ks = append(ks, map[string]string{"type": "qcode", "data": k})
		}
	}
	if _, err := m.Execute("send-key", map[string]any{"keys": ks, "hold-time": 50}); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(150 * time.Millisecond):
	}
	return nil
}

// ScreenDump asks QEMU for the guest's screen as PPM at path (QEMU 7.2's
// PNG dumps swap red and blue) and decodes it.
func (m *Monitor) ScreenDump(path string) (*image.RGBA, error) {
	if _, err := m.Execute("screendump", map[string]any{"filename": path}); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("qemu: screendump: %w", err)
	}
	defer f.Close()
	return ParsePPM(io.LimitReader(f, MaxPPMBytes+1))
}

// MaxPPMBytes bounds a PPM ParsePPM reads (4096x4096 RGB and a header).
const MaxPPMBytes = 3*4096*4096 + 64

// ParsePPM decodes a binary PPM (P6, maxval 255), as QEMU's screendump
// writes it. It refuses images over 4096 pixels a side.
func ParsePPM(r io.Reader) (*image.RGBA, error) {
	br := bufio.NewReader(r)
	var fields []int
	magic := make([]byte, 2)
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, []byte("P6")) {
		return nil, errors.New("qemu: not a binary PPM (P6)")
	}
	for len(fields) < 3 {
		tok, err := ppmToken(br)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(tok)
		if err != nil || n <= 0 || n > 4096 {
			return nil, fmt.Errorf("qemu: PPM header field %q out of range (1-4096)", tok)
		}
		fields = append(fields, n)
	}
	w, h, maxval := fields[0], fields[1], fields[2]
	if maxval != 255 {
		return nil, fmt.Errorf("qemu: PPM maxval %d, want 255", maxval)
	}
	pix := make([]byte, 3*w*h)
	if _, err := io.ReadFull(br, pix); err != nil {
		return nil, fmt.Errorf("qemu: PPM pixels: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = pix[3*i], pix[3*i+1], pix[3*i+2], 255
	}
	return img, nil
}

// ppmToken reads one header token, skipping white space and # comments,
// and consumes the single white-space byte after it.
func ppmToken(br *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", errors.New("qemu: PPM header truncated")
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := br.ReadString('\n'); err != nil {
				return "", errors.New("qemu: PPM header truncated")
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			if len(tok) >= 8 {
				return "", errors.New("qemu: PPM header token too long")
			}
			tok = append(tok, c)
		}
	}
}

// Click moves the guest's absolute pointer (a tablet) to (x, y) on a
// screen of size w x h and clicks the left button.
func (m *Monitor) Click(ctx context.Context, x, y, w, h int) error {
	abs := func(axis string, v, n int) map[string]any {
		return map[string]any{"type": "abs", "data": map[string]any{"axis": axis, "value": v * 0x7fff / max(1, n-1)}}
	}
	btn := func(down bool) map[string]any {
		return map[string]any{"type": "btn", "data": map[string]any{"down": down, "button": "left"}}
	}
	for _, evs := range [][]map[string]any{{abs("x", x, w), abs("y", y, h)}, {btn(true)}, {btn(false)}} {
		if _, err := m.Execute("input-send-event", map[string]any{"events": evs}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
