package convert

import (
	"fmt"
	"testing"
)

// BenchmarkVoiceSecond converts one second of a call's audio each way
// between 8 kHz mono and the hardware's stereo rate, in 20 ms frames, as a
// call on a sound card that takes no 8 kHz does.
func BenchmarkVoiceSecond(b *testing.B) {
	for _, hw := range []int{48000, 16000} {
		b.Run(fmt.Sprint(hw), func(b *testing.B) {
			up, _ := New(8000, 1, hw, 2)
			down, _ := New(hw, 2, 8000, 1)
			voice := make([]int16, 160)
			for i := range voice {
				voice[i] = int16(i * 97)
			}
			capt := make([]int16, hw/50*2)
			for i := range capt {
				capt[i] = int16(i * 31)
			}
			var out []int16
			b.ReportAllocs()
			for range b.N {
				for range 50 {
					out, _ = up.Process(out[:0], voice)
					out, _ = down.Process(out[:0], capt)
				}
			}
		})
	}
}
