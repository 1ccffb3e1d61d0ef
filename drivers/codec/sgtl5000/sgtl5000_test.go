package sgtl5000

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// w returns the I2C write of val to reg.
func w(reg, val uint16) i2ctest.IO {
	return i2ctest.IO{Addr: Addr, W: []byte{byte(reg >> 8), byte(reg), byte(val >> 8), byte(val)}}
}

func chipID(addr uint16, id uint16) i2ctest.IO {
	return i2ctest.IO{Addr: addr, W: []byte{0, 0}, R: []byte{byte(id >> 8), byte(id)}}
}

// powerUp is the expected transaction list for New with opts at 48 kHz,
// 16 bits, 0 dB, in datasheet order.
func powerUp(clk, i2s, hp uint16) []i2ctest.IO {
	return []i2ctest.IO{
		chipID(Addr, 0xA011),
		w(RegAnaPower, 0x4060),
		w(RegLinRegCtrl, 0x006C),
		w(RegRefCtrl, 0x01F2),
		w(RegLineOutCtrl, 0x0F22),
		w(RegShortCtrl, 0x4446),
		w(RegAnaCtrl, 0x0137),
		w(RegAnaPower, 0x40FF),
		w(RegDigPower, 0x0073),
		w(RegLineOutVol, 0x1D1D),
		w(RegClkCtrl, clk),
		w(RegI2SCtrl, i2s),
		w(RegSSSCtrl, 0x0010),
		w(RegADCDACCtrl, 0x0300),
		w(RegDACVol, 0x3C3C),
		w(RegAnaHPCtrl, hp),
		w(RegAnaCtrl, 0x0127),
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name         string
		opts         Opts
		clk, i2s, hp uint16
	}{
		{"48kHz 16bit 0dB", Opts{PowerUpDelay: -1}, 0x0008, 0x0130, 0x1818},
		{"44.1kHz 24bit -6dB", Opts{Rate: 44100, Bits: 24, Volume: -6, PowerUpDelay: -1}, 0x0004, 0x0010, 0x2424},
		{"8kHz voice 384fs +12dB", Opts{Rate: 8000, MCLKRatio: 384, Volume: 12, PowerUpDelay: -1}, 0x0039, 0x0130, 0x0000},
		{"16kHz 32bit min volume", Opts{Rate: 16000, Bits: 32, Volume: -51.5, PowerUpDelay: -1}, 0x0010, 0x0000, 0x7F7F},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: powerUp(tt.clk, tt.i2s, tt.hp), DontPanic: true}
			d, err := New(bus, Addr, &tt.opts)
			if err != nil {
				t.Fatalf("New = %v", err)
			}
			if d.Revision() != 0x11 {
				t.Errorf("Revision() = %#x, want 0x11", d.Revision())
			}
			if err := bus.Close(); err != nil {
				t.Errorf("not every expected transaction happened: %v", err)
			}
		})
	}
}

func TestControls(t *testing.T) {
	ops := append(powerUp(0x0008, 0x0130, 0x1818),
		w(RegAnaHPCtrl, 0x2020),  // SetVolume(-4)
		w(RegADCDACCtrl, 0x030C), // Mute(true): DAC muted...
		w(RegAnaCtrl, 0x0137),    // ...and headphones
		w(RegADCDACCtrl, 0x0300), // Mute(false)
		w(RegAnaCtrl, 0x0127),    //
		w(RegClkCtrl, 0x0004),    // SetRate(44100)
		i2ctest.IO{Addr: Addr, W: []byte{0x00, 0x36}, R: []byte{0x00, 0x01}}, // ReadReg(ANA_STATUS)
		w(RegADCDACCtrl, 0x030C), // Halt
		w(RegAnaCtrl, 0x0137),
		w(RegAnaCtrl, 0x0137),
		w(RegDigPower, 0x0000),
		w(RegAnaPower, 0x4040),
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := New(bus, Addr, &Opts{PowerUpDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"SetVolume(-4)", func() error { return d.SetVolume(-4) }},
		{"Mute(true)", func() error { return d.Mute(true) }},
		{"Mute(false)", func() error { return d.Mute(false) }},
		{"SetRate(44100)", func() error { return d.SetRate(44100) }},
		{"ReadReg(ANA_STATUS)", func() error {
			v, err := d.ReadReg(RegAnaStatus)
			if err == nil && v != 1 {
				t.Errorf("ReadReg(ANA_STATUS) = %#x, want 0x1", v)
			}
			return err
		}},
		{"Halt", d.Halt},
	}
	for _, s := range steps {
		if err := s.f(); err != nil {
			t.Fatalf("%s = %v", s.name, err)
		}
	}
	if err := bus.Close(); err != nil {
		t.Errorf("not every expected transaction happened: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Opts{{Rate: 7000}, {Bits: 18}, {MCLKRatio: 300}, {Volume: 13}, {Volume: -60}, {Rate: 96000, MCLKRatio: 512}} {
		bus := &i2ctest.Playback{DontPanic: true} // no transaction may happen
		if _, err := New(bus, Addr, &o); err == nil {
			t.Errorf("New(%+v) = nil error, want error", o)
		}
		if len(bus.Ops) != 0 || bus.Count != 0 {
			t.Errorf("New(%+v) touched the bus with bad options", o)
		}
	}
}

func TestProbe(t *testing.T) {
	for _, tt := range []struct {
		name string
		ops  []i2ctest.IO
		ok   bool
	}{
		{"sgtl5000", []i2ctest.IO{chipID(AltAddr, 0xA000)}, true},
		{"other chip", []i2ctest.IO{chipID(AltAddr, 0x1234)}, false},
		{"no ack", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			_, err := Probe(bus, AltAddr)
			if (err == nil) != tt.ok {
				t.Errorf("Probe = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, ErrNotFound) {
				t.Errorf("Probe = %v, want ErrNotFound", err)
			}
			if err := bus.Close(); err != nil {
				t.Errorf("not every expected transaction happened: %v", err)
			}
		})
	}
}

// closer wraps a playback as a BusCloser that records Close.
type closer struct {
	*i2ctest.Playback
	closed bool
}

func (c *closer) Close() error { c.closed = true; return nil }

func TestDriverInit(t *testing.T) {
	t.Run("skipped without buses", func(t *testing.T) {
		d := &Driver{DevRoot: t.TempDir()}
		if ok, err := d.Init(); ok || !errors.Is(err, ErrNoCodec) {
			t.Errorf("Init() = %v, %v, want false, ErrNoCodec", ok, err)
		}
	})
	t.Run("finds codec on second bus at alt address", func(t *testing.T) {
		dev := t.TempDir()
		os.WriteFile(filepath.Join(dev, "i2c-0"), nil, 0o644)
		os.WriteFile(filepath.Join(dev, "i2c-1"), nil, 0o644)
		bus0 := &closer{Playback: &i2ctest.Playback{DontPanic: true}} // nothing answers
		ops := powerUp(0x0008, 0x0130, 0x1818)
		for i := range ops {
			ops[i].Addr = AltAddr
		}
		bus1 := &closer{Playback: &i2ctest.Playback{Ops: append([]i2ctest.IO{chipID(AltAddr, 0xA011)}, ops...), DontPanic: true}}
		buses := map[int]*closer{0: bus0, 1: bus1}
		d := &Driver{DevRoot: dev, Opts: &Opts{PowerUpDelay: -1}, Open: func(n int) (i2c.BusCloser, error) { return buses[n], nil }}
		ok, err := d.Init()
		if !ok || err != nil {
			t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
		}
		if !bus0.closed || bus1.closed {
			t.Errorf("bus closed = %v, %v, want true, false", bus0.closed, bus1.closed)
		}
		if Found() == nil {
			t.Errorf("Found() = nil, want the codec")
		}
		if err := bus1.Playback.Close(); err != nil {
			t.Errorf("not every expected transaction happened: %v", err)
		}
	})
}
