package qemu

import (
	"encoding/binary"
	"math"
	"testing"
)

// makeWAV renders a 16-bit PCM WAV of a sine at hz (0 = silence).
func makeWAV(rate, ch int, hz float64, n int, dataSize int) []byte {
	var b []byte
	pcm := make([]byte, 0, n*ch*2)
	for i := 0; i < n; i++ {
		v := int16(0)
		if hz > 0 {
			v = int16(12000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
		}
		for c := 0; c < ch; c++ {
			pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
		}
	}
	if dataSize < 0 {
		dataSize = len(pcm)
	}
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(pcm)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(ch))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*ch*2))
	b = binary.LittleEndian.AppendUint16(b, uint16(ch*2))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(dataSize))
	return append(b, pcm...)
}

func TestToneCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wav      []byte
		hz       float64
		want     bool
		wantRate int
	}{
		{"1kHz found", makeWAV(44100, 2, 1000, 44100, -1), 1000, true, 44100},
		{"1kHz, unfinished header", makeWAV(44100, 2, 1000, 44100, 0), 1000, true, 44100},
		{"wrong frequency", makeWAV(44100, 2, 1500, 44100, -1), 1000, false, 44100},
		{"silence", makeWAV(48000, 1, 0, 48000, -1), 1000, false, 48000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWAV(tc.wav)
			if err != nil {
				t.Fatalf("ParseWAV = %v", err)
			}
			if w.Rate != tc.wantRate {
				t.Errorf("ParseWAV rate = %d, want %d", w.Rate, tc.wantRate)
			}
			if got, ratio := ToneCheck(w, tc.hz); got != tc.want {
				t.Errorf("ToneCheck(%v Hz) = %v (ratio %.1f), want %v", tc.hz, got, ratio, tc.want)
			}
		})
	}
}

func TestParseWAVErrors(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("RIFF....WAVE"), []byte("RIFX\x00\x00\x00\x00WAVE"), makeWAV(8000, 1, 0, 10, -1)[:30]} {
		if _, err := ParseWAV(b); err == nil {
			t.Errorf("ParseWAV(%q) = nil error, want error", b)
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(makeWAV(44100, 2, 1000, 100, -1))
	f.Add(makeWAV(8000, 1, 0, 10, 0))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWAV(b)
		if err != nil {
			return
		}
		if w.Channels < 1 || w.Rate <= 0 {
			t.Errorf("ParseWAV accepted %d channels at %d Hz", w.Channels, w.Rate)
		}
		ToneCheck(w, 1000)
	})
}
