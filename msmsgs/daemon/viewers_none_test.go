//go:build !sysgen_imaging && !sysgen_shdocvw

package daemon

import (
	"strings"
	"testing"
)

// TestViewersNotInDesign: built without SYSGEN_IMAGING and SYSGEN_SHDOCVW,
// picture and page say which item the design lacks.
func TestViewersNotInDesign(t *testing.T) {
	d := newTestDaemon(t)
	for _, c := range []struct{ args, want string }{
		{"picture /x.gif", "picture decoding is not in this device's design (add SYSGEN_IMAGING"},
		{"page http://127.0.0.1:1/", "the browser control host is not in this device's design (add SYSGEN_SHDOCVW"},
	} {
		_, err := d.Execute(t.Context(), strings.Fields(c.args), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Execute(%s) = %v, want %q", c.args, err, c.want)
		}
	}
}
