// Command testsum reads `go test -json` on stdin and prints failing tests'
// output, the skipped tests per package and go test's result lines. It exits
// 1 if any test or package failed.
//
//	go test -json ./... | go run ./scripts/testsum
package main

import (
	"fmt"
	"os"

	"github.com/oemkit/messenger/internal/testsum"
)

func main() {
	s, err := testsum.Run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum: reading go test -json:", err)
		os.Exit(2)
	}
	s.Print(os.Stdout)
	if s.Failed > 0 {
		os.Exit(1)
	}
}
