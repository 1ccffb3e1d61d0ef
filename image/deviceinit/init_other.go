//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
)

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("deviceinit runs only on Linux devices (it is the image's uinit)")
}
