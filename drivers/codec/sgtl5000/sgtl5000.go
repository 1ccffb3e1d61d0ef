// Package sgtl5000 drives the NXP SGTL5000 low-power stereo I2S codec over
// I2C (periph conn/i2c): detection by CHIP_ID, power-up, sample rate and
// I2S format, headphone volume and mute.
//
// Register addresses and bit fields are from the SGTL5000 datasheet (rev 6,
// section 6 "Programming Registers"). Registers are 16 bits wide with 16-bit
// addresses, both sent MSB first. The power-up sequence follows the
// datasheet's "Chip Powerup and Supply Configurations" for VDDIO = 3.3 V,
// VDDA = 3.3 V and an external 1.8 V VDDD, with the codec as I2S slave.
//
// Importing the package registers driver "sgtl5000" with driverreg; it
// probes the /dev/i2c-N buses for a codec at 0x0A or 0x2A and is skipped
// when there is none.
package sgtl5000

import (
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"
)

// I2C addresses: CTRL_ADR0_CS low (the usual wiring) or high.
const (
	Addr    uint16 = 0x0A
	AltAddr uint16 = 0x2A
)

// Register addresses.
const (
	RegChipID      uint16 = 0x0000
	RegDigPower    uint16 = 0x0002
	RegClkCtrl     uint16 = 0x0004
	RegI2SCtrl     uint16 = 0x0006
	RegSSSCtrl     uint16 = 0x000A
	RegADCDACCtrl  uint16 = 0x000E
	RegDACVol      uint16 = 0x0010
	RegPadStrength uint16 = 0x0014
	RegAnaADCCtrl  uint16 = 0x0020
	RegAnaHPCtrl   uint16 = 0x0022
	RegAnaCtrl     uint16 = 0x0024
	RegLinRegCtrl  uint16 = 0x0026
	RegRefCtrl     uint16 = 0x0028
	RegMicCtrl     uint16 = 0x002A
	RegLineOutCtrl uint16 = 0x002C
	RegLineOutVol  uint16 = 0x002E
	RegAnaPower    uint16 = 0x0030
	RegPLLCtrl     uint16 = 0x0032
	RegClkTopCtrl  uint16 = 0x0034
	RegAnaStatus   uint16 = 0x0036
	RegShortCtrl   uint16 = 0x003C
)

// Bit fields.
const (
	partID = 0xA0 // CHIP_ID[15:8]

	// CHIP_DIG_POWER
	digADC    = 1 << 6
	digDAC    = 1 << 5
	digDAP    = 1 << 4
	digI2SOut = 1 << 1
	digI2SIn  = 1 << 0

	// CHIP_ANA_POWER
	anaDACStereo   = 1 << 14 // DAC_MONO: 1 = stereo
	anaVAG         = 1 << 7
	anaADCStereo   = 1 << 6 // ADC_MONO: 1 = stereo
	anaRefTop      = 1 << 5
	anaHeadphone   = 1 << 4
	anaDAC         = 1 << 3
	anaCaplessHP   = 1 << 2
	anaADC         = 1 << 1
	anaLineOut     = 1 << 0
	anaPowerBasic  = anaDACStereo | anaADCStereo | anaRefTop
	anaPowerAll    = anaPowerBasic | anaVAG | anaHeadphone | anaDAC | anaCaplessHP | anaADC | anaLineOut
	linregVDDCMan  = 1 << 6 // VDDC_MAN_ASSN: charge pump from VDDIO
	linregVDDCOvrd = 1 << 5 // VDDC_ASSN_OVRD
	linregD1V0     = 0xC    // D_PROGRAMMING: unused with external VDDD

	// CHIP_REF_CTRL: VAG_VAL[8:4] = 0x1F (1.575 V = VDDA/2), BIAS_CTRL[3:1] = 1 (+12.5 %)
	refCtrl = 0x1F<<4 | 1<<1
	// CHIP_LINE_OUT_CTRL: OUT_CURRENT[11:8] = 0xF (0.54 mA), LO_VAGCNTRL[5:0] = 0x22 (1.65 V)
	lineOutCtrl = 0xF<<8 | 0x22
	// CHIP_SHORT_CTRL: LVLADJR[14:12] = 4, LVLADJL[10:8] = 4, LVLADJC[6:4] = 4 (125 mA), MODE_LR[3:2] = 1, MODE_CM[1:0] = 2
	shortCtrl = 4<<12 | 4<<8 | 4<<4 | 1<<2 | 2
	// CHIP_LINE_OUT_VOL: 0x1D per channel, about 1.3 V peak-to-peak
	lineOutVol = 0x1D<<8 | 0x1D

	// CHIP_ANA_CTRL
	anaMuteLO    = 1 << 8
	anaSelectHP  = 1 << 6 // 0 = DAC, 1 = LINEIN
	anaZCDHP     = 1 << 5
	anaMuteHP    = 1 << 4
	anaSelectADC = 1 << 2 // 0 = MIC, 1 = LINEIN
	anaZCDADC    = 1 << 1
	anaMuteADC   = 1 << 0

	// CHIP_ADCDAC_CTRL
	volRampEn   = 1 << 9
	volExpoRamp = 1 << 8
	dacMuteR    = 1 << 3
	dacMuteL    = 1 << 2

	// CHIP_SSS_CTRL: DAC_SELECT[5:4] = 1 (I2S_IN), I2S_SELECT[1:0] = 0 (ADC)
	sssI2SToDAC = 1 << 4

	// CHIP_I2S_CTRL
	i2sSCLK32Fs  = 1 << 8
	i2sMaster    = 1 << 7
	i2sDLenShift = 4 // DLEN[5:4]: 0 = 32, 1 = 24, 2 = 20, 3 = 16 bits

	// CHIP_DAC_VOL: 0x3C = 0 dB per channel
	dacVol0dB = 0x3C<<8 | 0x3C

	// CHIP_ANA_HP_CTRL: 0x00 = +12 dB ... 0x18 = 0 dB ... 0x7F = -51.5 dB, 0.5 dB steps
	hpVol0dB  = 0x18
	hpVolMin  = 0x7F
	hpVolMaxF = 12.0
	hpVolMinF = -51.5
)

// Opts configures the codec.
type Opts struct {
	// Rate is the sample rate in Hz: 8000, 11025, 12000, 16000, 22050,
	// 24000, 32000, 44100, 48000 or 96000. Default 48000.
	Rate int
	// Bits per sample on I2S: 16, 20, 24 or 32. Default 16.
	Bits int
	// MCLKRatio is SYS_MCLK / SYS_FS: 256, 384 or 512. Default 256.
	MCLKRatio int
	// Volume is the headphone volume in dB, -51.5 to +12. Default 0 (applied
	// unmuted at the end of power-up).
	Volume float64
	// PowerUpDelay is how long to wait for the analog reference (VAG) to
	// ramp before unmuting; the datasheet's slow ramp needs about 400 ms.
	// Zero means 400 ms; a negative value does not wait.
	PowerUpDelay time.Duration
}

// DefaultOpts are 48 kHz, 16-bit I2S, MCLK = 256 Fs, 0 dB.
var DefaultOpts = Opts{Rate: 48000, Bits: 16, MCLKRatio: 256, PowerUpDelay: 400 * time.Millisecond}

// ErrNotFound is returned when CHIP_ID does not read as an SGTL5000.
var ErrNotFound = errors.New("sgtl5000: no SGTL5000 at this address")

// Dev is an SGTL5000 codec.
type Dev struct {
	d      i2c.Dev
	rev    uint8
	opts   Opts
	shadow map[uint16]uint16 // last value written per register
}

var _ conn.Resource = (*Dev)(nil)

// Probe reads CHIP_ID at addr and returns the chip revision, or
// ErrNotFound (wrapping the bus error, if any).
func Probe(bus i2c.Bus, addr uint16) (rev uint8, err error) {
	var r [2]byte
	if err := bus.Tx(addr, []byte{byte(RegChipID >> 8), byte(RegChipID)}, r[:]); err != nil {
		return 0, fmt.Errorf("%w (%#x on %s: %w)", ErrNotFound, addr, bus, err)
	}
	if r[0] != partID {
		return 0, fmt.Errorf("%w: CHIP_ID at %#x on %s is %#02x%02x, want 0xa0xx", ErrNotFound, addr, bus, r[0], r[1])
	}
	return r[1], nil
}

// New checks that an SGTL5000 answers at addr on bus, powers it up and sets
// it to opts (nil: DefaultOpts). On return the headphone output plays the
// I2S input at the chosen rate and volume.
func New(bus i2c.Bus, addr uint16, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
		if o.Rate == 0 {
			o.Rate = DefaultOpts.Rate
		}
		if o.Bits == 0 {
			o.Bits = DefaultOpts.Bits
		}
		if o.MCLKRatio == 0 {
			o.MCLKRatio = DefaultOpts.MCLKRatio
		}
		if o.PowerUpDelay == 0 {
			o.PowerUpDelay = DefaultOpts.PowerUpDelay
		}
	}
	clk, err := clkCtrl(o.Rate, o.MCLKRatio)
	if err != nil {
		return nil, err
	}
	i2s, err := i2sCtrl(o.Bits)
	if err != nil {
		return nil, err
	}
	hp, err := hpVolume(o.Volume)
	if err != nil {
		return nil, err
	}
	rev, err := Probe(bus, addr)
	if err != nil {
		return nil, err
	}
	d := &Dev{d: i2c.Dev{Bus: bus, Addr: addr}, rev: rev, opts: o, shadow: map[uint16]uint16{}}
	seq := []struct{ reg, val uint16 }{
		// Analog supplies: reference only, stereo DAC and ADC.
		{RegAnaPower, anaPowerBasic},
		{RegLinRegCtrl, linregVDDCMan | linregVDDCOvrd | linregD1V0},
		{RegRefCtrl, refCtrl},
		{RegLineOutCtrl, lineOutCtrl},
		{RegShortCtrl, shortCtrl},
		// Everything muted, zero-cross detection on, ADC from LINEIN.
		{RegAnaCtrl, anaMuteLO | anaZCDHP | anaMuteHP | anaSelectADC | anaZCDADC | anaMuteADC},
		{RegAnaPower, anaPowerAll},
		{RegDigPower, digADC | digDAC | digDAP | digI2SOut | digI2SIn},
	}
	for _, s := range seq {
		if err := d.WriteReg(s.reg, s.val); err != nil {
			return nil, err
		}
	}
	if o.PowerUpDelay > 0 {
		time.Sleep(o.PowerUpDelay) // VAG ramp: hardware timing
	}
	seq = []struct{ reg, val uint16 }{
		{RegLineOutVol, lineOutVol},
		{RegClkCtrl, clk},
		{RegI2SCtrl, i2s},
		{RegSSSCtrl, sssI2SToDAC},
		{RegADCDACCtrl, volRampEn | volExpoRamp}, // DAC unmuted, ramped volume changes
		{RegDACVol, dacVol0dB},
		{RegAnaHPCtrl, hp},
		{RegAnaCtrl, anaMuteLO | anaZCDHP | anaSelectADC | anaZCDADC | anaMuteADC}, // headphones on
	}
	for _, s := range seq {
		if err := d.WriteReg(s.reg, s.val); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// clkCtrl returns CHIP_CLK_CTRL for a rate: SYS_FS[3:2] (32, 44.1, 48,
// 96 kHz), RATE_MODE[5:4] (SYS_FS divided by 1, 2, 4 or 6), MCLK_FREQ[1:0].
func clkCtrl(rate, mclk int) (uint16, error) {
	type fs struct{ sysFS, rateMode uint16 }
	m := map[int]fs{
		8000: {2, 3}, 11025: {1, 2}, 12000: {2, 2}, 16000: {0, 1}, 22050: {1, 1},
		24000: {2, 1}, 32000: {0, 0}, 44100: {1, 0}, 48000: {2, 0}, 96000: {3, 0},
	}
	f, ok := m[rate]
	if !ok {
		return 0, fmt.Errorf("sgtl5000: rate %d Hz not supported; use 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000 or 96000", rate)
	}
	var mf uint16
	switch mclk {
	case 256:
		mf = 0
	case 384:
		mf = 1
	case 512:
		mf = 2
	default:
		return 0, fmt.Errorf("sgtl5000: MCLK ratio %d not supported; use 256, 384 or 512 (x SYS_FS)", mclk)
	}
	if f.sysFS == 3 && mf != 0 {
		return 0, fmt.Errorf("sgtl5000: 96 kHz needs MCLK = 256 x Fs, not %d", mclk)
	}
	return f.rateMode<<4 | f.sysFS<<2 | mf, nil
}

// i2sCtrl returns CHIP_I2S_CTRL for slave I2S with bits per sample; 16-bit
// uses SCLK = 32 Fs, wider samples 64 Fs.
func i2sCtrl(bits int) (uint16, error) {
	var dlen uint16
	switch bits {
	case 16:
		return i2sSCLK32Fs | 3<<i2sDLenShift, nil
	case 20:
		dlen = 2
	case 24:
		dlen = 1
	case 32:
		dlen = 0
	default:
		return 0, fmt.Errorf("sgtl5000: %d bits per sample not supported; use 16, 20, 24 or 32", bits)
	}
	return dlen << i2sDLenShift, nil
}

// hpVolume returns CHIP_ANA_HP_CTRL for db on both channels.
func hpVolume(db float64) (uint16, error) {
	if math.IsNaN(db) || db > hpVolMaxF || db < hpVolMinF {
		return 0, fmt.Errorf("sgtl5000: headphone volume %.1f dB out of range %.1f..+%.0f dB", db, hpVolMinF, hpVolMaxF)
	}
	v := uint16(math.Round((hpVolMaxF - db) * 2)) // 0 = +12 dB, 0.5 dB per step
	if v > hpVolMin {
		v = hpVolMin
	}
	return v<<8 | v, nil
}

// String returns "SGTL5000{bus addr}".
func (d *Dev) String() string {
	return fmt.Sprintf("SGTL5000{%s rev %d}", &d.d, d.rev)
}

// Revision returns the chip revision from CHIP_ID.
func (d *Dev) Revision() uint8 { return d.rev }

// WriteReg writes a 16-bit register.
func (d *Dev) WriteReg(reg, val uint16) error {
	if err := d.d.Tx([]byte{byte(reg >> 8), byte(reg), byte(val >> 8), byte(val)}, nil); err != nil {
		return fmt.Errorf("sgtl5000: write %#04x: %w", reg, err)
	}
	d.shadow[reg] = val
	return nil
}

// ReadReg reads a 16-bit register.
func (d *Dev) ReadReg(reg uint16) (uint16, error) {
	var r [2]byte
	if err := d.d.Tx([]byte{byte(reg >> 8), byte(reg)}, r[:]); err != nil {
		return 0, fmt.Errorf("sgtl5000: read %#04x: %w", reg, err)
	}
	return uint16(r[0])<<8 | uint16(r[1]), nil
}

// modify sets the bits in mask of reg to val, from the last value written.
func (d *Dev) modify(reg, mask, val uint16) error {
	return d.WriteReg(reg, d.shadow[reg]&^mask|val&mask)
}

// SetVolume sets the headphone volume in dB (-51.5 to +12, 0.5 dB steps).
func (d *Dev) SetVolume(db float64) error {
	v, err := hpVolume(db)
	if err != nil {
		return err
	}
	return d.WriteReg(RegAnaHPCtrl, v)
}

// Mute mutes or unmutes the headphone output (and the DAC, so the output
// ramps rather than clicks).
func (d *Dev) Mute(mute bool) error {
	var dac, hp uint16
	if mute {
		dac, hp = dacMuteL|dacMuteR, anaMuteHP
	}
	if err := d.modify(RegADCDACCtrl, dacMuteL|dacMuteR, dac); err != nil {
		return err
	}
	return d.modify(RegAnaCtrl, anaMuteHP, hp)
}

// SetRate changes the sample rate (see Opts.Rate).
func (d *Dev) SetRate(rate int) error {
	v, err := clkCtrl(rate, d.opts.MCLKRatio)
	if err != nil {
		return err
	}
	if err := d.WriteReg(RegClkCtrl, v); err != nil {
		return err
	}
	d.opts.Rate = rate
	return nil
}

// Halt mutes the outputs and powers the analog and digital blocks down.
func (d *Dev) Halt() error {
	if err := d.Mute(true); err != nil {
		return err
	}
	if err := d.modify(RegAnaCtrl, anaMuteLO|anaMuteADC, anaMuteLO|anaMuteADC); err != nil {
		return err
	}
	if err := d.WriteReg(RegDigPower, 0); err != nil {
		return err
	}
	return d.WriteReg(RegAnaPower, anaPowerBasic&^anaRefTop)
}
