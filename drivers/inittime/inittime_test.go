package inittime

import (
	"testing"
	"time"
)

func TestSince(t *testing.T) {
	func() {
		defer Since("test-driver", time.Now())
		time.Sleep(5 * time.Millisecond)
	}()
	got, ok := All()["test-driver"]
	if !ok || got < 5*time.Millisecond || got > 5*time.Second {
		t.Fatalf("All()[test-driver] = %v, %v; want about 5ms", got, ok)
	}
	m := All()
	m["test-driver"] = 0
	if All()["test-driver"] == 0 {
		t.Fatal("All returned the package's map, not a copy")
	}
}
