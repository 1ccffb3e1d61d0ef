package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/oemkit/messenger/messengerd/store"
)

func runUser(ctx context.Context, sub string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("messengerd user "+sub, flag.ContinueOnError)
	data := fs.String("data", "messengerd-data", "data directory (database, CA)")
	name := fs.String("name", "", "friendly name for a new account (default: the account name)")
	pos, err := interleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	switch sub {
	case "add", "passwd":
		if len(pos) != 1 {
			return usageError{fmt.Sprintf("usage: messengerd user %s -data DIR EMAIL (password on standard input)", sub)}
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		st, err := store.Open(*data)
		if err != nil {
			return err
		}
		defer st.Close()
		if sub == "add" {
			if err := st.AddUser(ctx, pos[0], pw, *name); err != nil {
				if errors.Is(err, store.ErrExists) {
					return fmt.Errorf("%w (use \"messengerd user passwd\" to change its password)", err)
				}
				return err
			}
			fmt.Fprintf(stdout, "added %s\n", strings.ToLower(pos[0]))
			return nil
		}
		if err := st.SetPassword(ctx, pos[0], pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password changed for %s\n", strings.ToLower(pos[0]))
		return nil
	case "list":
		st, err := store.Open(*data)
		if err != nil {
			return err
		}
		defer st.Close()
		us, err := st.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			fmt.Fprintln(stdout, u)
		}
		return nil
	}
	return usageError{fmt.Sprintf("unknown user command %q (use add, passwd or list)", sub)}
}

// readPassword reads the first line of r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input (pipe it in: echo secret | messengerd user add ...)")
	}
	return pw, nil
}
