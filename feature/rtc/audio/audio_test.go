package audio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWAVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	in := make([]int16, 3*FrameSamples+17) // a partial last frame
	for i := range in {
		in[i] = int16(i*37 - 5000)
	}
	if err := WriteWAV(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	// ReadWAV pads the last frame with silence.
	want := append(append([]int16(nil), in...), make([]int16, FrameSamples-17)...)
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("ReadWAV(WriteWAV(x)) (-want +got):\n%s", diff)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestOpenWAVRejectsOtherFormats(t *testing.T) {
	hdr := WAVHeader(0)
	hdr[24] = 0x44 // 44100 Hz
	hdr[25] = 0xac
	path := filepath.Join(t.TempDir(), "cd.wav")
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWAV(path); err == nil {
		t.Error("OpenWAV(44.1 kHz file) error = nil, want a conversion hint")
	}
}

func TestTone(t *testing.T) {
	for _, freq := range []float64{300, 440, 1000, 3000} {
		tone := &Tone{Freq: freq, Frames: 25}
		var s []int16
		f := make([]int16, FrameSamples)
		for {
			err := tone.ReadFrame(f)
			if errors.Is(err, io.EOF) {
				break
			}
			s = append(s, f...)
		}
		if len(s) != 25*FrameSamples {
			t.Errorf("Tone{%v, 25 frames} gave %d samples, want %d", freq, len(s), 25*FrameSamples)
		}
		probes := []float64{300, 440, 1000, 3000}
		if !DominantTone(s, freq, probes, 10) {
			t.Errorf("DominantTone(tone %v Hz, %v) = false, want true", freq, freq)
		}
		for _, p := range probes {
			if p != freq && DominantTone(s, p, probes, 10) {
				t.Errorf("DominantTone(tone %v Hz, %v) = true, want false", freq, p)
			}
		}
	}
	if DominantTone(make([]int16, 8000), 440, nil, 10) {
		t.Error("DominantTone(silence) = true, want false")
	}
}

func FuzzReadWAVHeader(f *testing.F) {
	f.Add(WAVHeader(320))
	f.Add(append(WAVHeader(4), 1, 2, 3, 4))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVELIST\x04\x00\x00\x00abcdfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"))
	f.Add([]byte("RIFF....WAVEdata\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		format, size, err := ReadWAVHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if size < 0 || format.Channels < 0 {
			t.Fatalf("ReadWAVHeader = %+v, %d: negative values", format, size)
		}
	})
}
