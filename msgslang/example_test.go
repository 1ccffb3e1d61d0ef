package msgslang_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
)

// The program keeps its English table as the last resort and reads the
// locale named by the msmsgs.locale setting from the image.
func Example() {
	builtin := map[string]string{
		"con.presence": "* %s (%s) is now %s",
		"status.BSY":   "Busy",
	}
	cat := msgslang.Load("locales", "0407", msgslang.Options{
		Fallback: builtin,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	// On an ASCII-only console (console.encoding = "ascii"), transliterate.
	enc, _ := stdio.Detect("ascii", os.Getenv)
	out := stdio.NewWriter(os.Stdout, enc)
	fmt.Fprintln(out, cat.Locale())
	fmt.Fprintln(out, cat.Text("con.presence", "Ana", "ana@example.com", cat.Text("status.BSY")))
	// Output:
	// de-DE
	// * Ana (ana@example.com) ist jetzt Beschaeftigt
}
