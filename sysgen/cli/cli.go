// Package cli is the sysgen command line as a library, so tests drive the
// real CLI in-process: Context{Args, Env, Stdout, Stderr}.Execute(ctx).
//
// One file per subcommand. Exit codes: 0 success, 1 a failure the user must
// fix (the message says how), 2 usage.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/internal/modroot"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// Context is one invocation of sysgen.
type Context struct {
	// Args are the arguments after the program name.
	Args []string
	// Env is the environment, as os.Environ(); SYSGEN_ flags come from it.
	Env []string
	// Dir is the working directory; the catalog is found from it.
	Dir    string
	Stdout io.Writer
	Stderr io.Writer
}

// ExitError carries the process exit code for an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Code returns the exit code for err: 0 for nil, 2 for usage errors, else 1.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

func usageErr(format string, args ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, c *Context, args []string) error
}

func commands() []command {
	return []command{
		{"list", "list the catalog items", runList},
		{"resolve", "resolve the design: every item, in build order, with why it is there", runResolve},
		{"why", "print the chains that bring ID into the design (exit 1 if it is not in it)", runWhy},
		{"why-not", "explain why ID is not in the design, or why adding it would fail", runWhyNot},
		{"graph", "draw the design's dependency graph (dot or svg)", runGraph},
		{"ports", "the design's network ports, for the firewall admin", runPorts},
		{"settings", "the merged device settings file and where each value comes from", runSettings},
	}
}

// Extra subcommands registered by other files (build, boot, size).
var extraCommands []command

// Execute runs the command line.
func (c *Context) Execute(ctx context.Context) error {
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	all := append(commands(), extraCommands...)
	if len(c.Args) == 0 || c.Args[0] == "-h" || c.Args[0] == "--help" || c.Args[0] == "help" {
		c.usage(all)
		if len(c.Args) == 0 {
			return usageErr("sysgen: missing command")
		}
		return nil
	}
	for _, cmd := range all {
		if cmd.name == c.Args[0] {
			err := cmd.run(ctx, c, c.Args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	var names []string
	for _, cmd := range all {
		names = append(names, cmd.name)
	}
	return usageErr("sysgen: unknown command %q%s; run sysgen --help", c.Args[0], feature.Suggest(c.Args[0], names))
}

func (c *Context) usage(all []command) {
	fmt.Fprintf(c.Stdout, "sysgen turns OEM flags into a bootable Messenger OS design.\n\n")
	fmt.Fprintf(c.Stdout, "Usage: sysgen COMMAND [flags]\n\nFlags come from the environment like CE's sysgen:\n  SYSGEN_X=1 sets item X, SYSGEN_X= clears it; --design osdesign.toml adds a design file.\n\nCommands:\n")
	for _, cmd := range all {
		fmt.Fprintf(c.Stdout, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(c.Stdout, "\nRun sysgen COMMAND --help for its flags.\n")
}

// common holds the flags every command takes.
type common struct {
	bsp, design, catalog, format string
}

func (c *Context) flags(name, usage string, formats []string) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	co := &common{}
	fs.StringVar(&co.bsp, "bsp", "", "board support package (default: the design file's, else "+resolve.DefaultBSP+")")
	fs.StringVar(&co.design, "design", "", "OS design file (osdesign.toml)")
	fs.StringVar(&co.catalog, "catalog", "", "catalog root folder (default: the project folder containing go.mod)")
	if len(formats) > 0 {
		fs.StringVar(&co.format, "format", formats[0], "output format: "+strings.Join(formats, "|"))
	}
	fs.Usage = func() {
		fmt.Fprintf(c.Stderr, "Usage: sysgen %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs, co
}

// parse parses flags allowing them before and after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &ExitError{Code: 2, Err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func checkFormat(co *common, formats ...string) error {
	for _, f := range formats {
		if co.format == f {
			return nil
		}
	}
	return usageErr("sysgen: --format %q: use one of %s", co.format, strings.Join(formats, ", "))
}

// catalogRoot finds the folder holding go.mod above dir.
func catalogRoot(dir string) (string, error) {
	root, err := modroot.Find(dir)
	if err != nil {
		return "", fmt.Errorf("sysgen: %w: run sysgen inside the project or pass --catalog DIR", err)
	}
	return root, nil
}

// loadCatalog loads the catalog from --catalog, else from the project
// folder, and returns the folder it used.
func (c *Context) loadCatalog(co *common) (*feature.Catalog, string, error) {
	root := co.catalog
	if root == "" {
		var err error
		if root, err = catalogRoot(orDot(c.Dir)); err != nil {
			return nil, "", err
		}
	}
	cat, err := feature.Load(root)
	return cat, root, err
}

// session is a loaded catalog plus the OEM's design.
type session struct {
	cat    *feature.Catalog
	file   *resolve.File
	design resolve.Design
	flags  resolve.Flags
}

func (c *Context) session(co *common) (*session, error) {
	cat, _, err := c.loadCatalog(co)
	if err != nil {
		return nil, err
	}
	s := &session{cat: cat}
	if co.design != "" {
		p := co.design
		if !filepath.IsAbs(p) && c.Dir != "" {
			p = filepath.Join(c.Dir, p)
		}
		if s.file, err = resolve.LoadFile(p); err != nil {
			return nil, err
		}
	}
	env, err := resolve.FlagsFromEnv(c.Env)
	if err != nil {
		return nil, err
	}
	s.design, s.flags = resolve.Combine(s.file, env, co.bsp)
	if len(s.design.Set) == 0 {
		return nil, fmt.Errorf("sysgen: no items selected: set an OEM flag, e.g. SYSGEN_MESSENGER=1 sysgen %s, or pass --design osdesign.toml", "resolve")
	}
	return s, nil
}

// resolveArgs parses a report command's flags (the first format is the
// default), loads the catalog and design, and resolves it.
func (c *Context) resolveArgs(name, usage string, formats []string, args []string) (*session, *resolve.Result, string, error) {
	fs, co := c.flags(name, usage, formats)
	if _, err := parse(fs, args); err != nil {
		return nil, nil, "", err
	}
	if err := checkFormat(co, formats...); err != nil {
		return nil, nil, "", err
	}
	s, err := c.session(co)
	if err != nil {
		return nil, nil, "", err
	}
	r, err := s.resolve()
	if err != nil {
		return nil, nil, "", err
	}
	return s, r, co.format, nil
}

func (s *session) resolve() (*resolve.Result, error) {
	return resolve.Resolve(s.cat, s.design)
}
