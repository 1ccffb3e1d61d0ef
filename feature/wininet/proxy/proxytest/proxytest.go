// Package proxytest starts real proxy servers (dante, tinyproxy) and a TCP
// line echo server on loopback for tests and benchmarks. A test calling it
// is skipped, with the Debian package to install, when a program is missing.
package proxytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running proxy.
type Server struct {
	Addr string // 127.0.0.1:port
	Log  string // path of its log file
}

// FreePort returns a TCP port that was free a moment ago on 127.0.0.1.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxytest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ClosedAddr returns a loopback address where nothing listens.
func ClosedAddr(tb testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
}

// DanteOptions configure StartDante.
type DanteOptions struct {
	// User and Password turn on SOCKS5 username authentication (RFC 1929)
	// for a throwaway account visible only to danted.
	User, Password string
	// BlockPort, when set, is a destination port on 127.0.0.1 the rules refuse.
	BlockPort int
}

// StartDante runs danted (Debian dante-server) on 127.0.0.1 until the test ends.
func StartDante(tb testing.TB, o DanteOptions) *Server {
	tb.Helper()
	danted, err := exec.LookPath("danted")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/danted"); e == nil {
			danted = "/usr/sbin/danted"
		} else {
			tb.Skip("proxytest: danted not found: apt-get install dante-server")
		}
	}
	dir := tb.TempDir()
	port := FreePort(tb)
	method := "none"
	if o.User != "" {
		method = "username"
	}
	var block string
	if o.BlockPort != 0 {
		block = fmt.Sprintf("socks block { from: 127.0.0.0/8 to: 127.0.0.1/32 port = %d log: error }\n", o.BlockPort)
	}
	conf := fmt.Sprintf(`logoutput: %s
internal: 127.0.0.1 port = %d
external: 127.0.0.1
socksmethod: %s
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
%ssocks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 protocol: tcp }
`, filepath.Join(dir, "danted.log"), port, method, block)
	confPath := filepath.Join(dir, "danted.conf")
	write(tb, confPath, conf)
	args := []string{"-f", confPath, "-p", filepath.Join(dir, "danted.pid"), "-N", "1"}
	var cmd *exec.Cmd
	if o.User == "" {
		cmd = exec.Command(danted, args...)
	} else {
		// dante checks passwords with getpwnam/getspnam. Give it its own
		// passwd and shadow in a private mount namespace, so the test
		// account never touches the host's files.
		if why := DanteAuthUnavailable(); why != "" {
			tb.Skip(why)
		}
		hash, err := exec.Command("openssl", "passwd", "-6", "-salt", "labproxy", o.Password).Output()
		if err != nil {
			tb.Fatalf("proxytest: openssl passwd: %v", err)
		}
		passwd := filterUser(tb, "/etc/passwd", o.User) + fmt.Sprintf("%s:x:4242:4242::/nonexistent:/usr/sbin/nologin\n", o.User)
		shadow := filterUser(tb, "/etc/shadow", o.User) + fmt.Sprintf("%s:%s:19000:0:99999:7:::\n", o.User, strings.TrimSpace(string(hash)))
		pw, sh := filepath.Join(dir, "passwd"), filepath.Join(dir, "shadow")
		write(tb, pw, passwd)
		write(tb, sh, shadow)
		os.Chmod(sh, 0o600)
		script := fmt.Sprintf("mount --bind %s /etc/passwd && mount --bind %s /etc/shadow && exec %s %s",
			pw, sh, danted, strings.Join(args, " "))
		cmd = exec.Command("unshare", "-m", "sh", "-c", script)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: filepath.Join(dir, "danted.log")}
	start(tb, cmd, dir, "danted", s)
	return s
}

// DanteAuthUnavailable returns why StartDante cannot run with a user name
// and password here, or "" when it can. Tests use it to skip only the
// cases that need authentication.
func DanteAuthUnavailable() string {
	authProbe.Do(func() { authWhy = probeDanteAuth() })
	return authWhy
}

var (
	authProbe sync.Once
	authWhy   string
)

func probeDanteAuth() string {
	if _, err := exec.LookPath("danted"); err != nil {
		if _, e := os.Stat("/usr/sbin/danted"); e != nil {
			return "proxytest: danted not found: apt-get install dante-server"
		}
	}
	if os.Geteuid() != 0 {
		return "proxytest: SOCKS5 username auth with dante needs root (private mount namespace for a test account)"
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		return "proxytest: openssl not found: apt-get install openssl"
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return "proxytest: unshare not found: apt-get install util-linux"
	}
	// Containers without CAP_SYS_ADMIN cannot bind-mount in a namespace.
	if out, err := exec.Command("unshare", "-m", "sh", "-c", "mount --bind /etc/hostname /etc/hostname").CombinedOutput(); err != nil {
		return fmt.Sprintf("proxytest: cannot make a private mount namespace for the dante test account (%v: %s); run the tests as root with CAP_SYS_ADMIN",
			err, strings.TrimSpace(string(out)))
	}
	return ""
}

// TinyOptions configure StartTinyproxy.
type TinyOptions struct {
	User, Password string // Basic proxy authentication when set
	// ConnectPorts limits CONNECT to these ports; all ports when empty.
	ConnectPorts []int
}

// StartTinyproxy runs tinyproxy (Debian tinyproxy) on 127.0.0.1 until the test ends.
func StartTinyproxy(tb testing.TB, o TinyOptions) *Server {
	tb.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		if _, e := os.Stat("/usr/bin/tinyproxy"); e != nil {
			tb.Skip("proxytest: tinyproxy not found: apt-get install tinyproxy")
		}
		bin = "/usr/bin/tinyproxy"
	}
	dir := tb.TempDir()
	port := FreePort(tb)
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListen 127.0.0.1\nTimeout 120\nMaxClients 100\nAllow 127.0.0.1\nDisableViaHeader Yes\nLogLevel Info\nLogFile %q\n",
		port, filepath.Join(dir, "tinyproxy.log"))
	if o.User != "" {
		fmt.Fprintf(&b, "BasicAuth %s %s\n", o.User, o.Password)
	}
	for _, p := range o.ConnectPorts {
		fmt.Fprintf(&b, "ConnectPort %d\n", p)
	}
	confPath := filepath.Join(dir, "tinyproxy.conf")
	write(tb, confPath, b.String())
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: filepath.Join(dir, "tinyproxy.log")}
	start(tb, exec.Command(bin, "-d", "-c", confPath), dir, "tinyproxy", s)
	return s
}

func start(tb testing.TB, cmd *exec.Cmd, dir, name string, s *Server) {
	tb.Helper()
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("proxytest: start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	tb.Cleanup(func() {
		// Kill the process group we created (danted forks workers).
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, name+".out"))
			l, _ := os.ReadFile(s.Log)
			tb.Fatalf("proxytest: %s exited before listening (%v):\n%s\n%s", name, err, b, l)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("proxytest: %s not listening on %s after 30 s", name, s.Addr)
		}
	}
}

// StartLineEcho runs a TCP server on 127.0.0.1 that answers every line
// with the same line, until the test ends. It returns its address.
func StartLineEcho(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxytest: listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				stop := context.AfterFunc(ctx, func() { c.Close() })
				defer stop()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadBytes('\n')
					if len(line) > 0 {
						if _, werr := c.Write(line); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	tb.Cleanup(func() { cancel(); l.Close(); <-done })
	return l.Addr().String()
}

func write(tb testing.TB, path, s string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func filterUser(tb testing.TB, path, user string) string {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatalf("proxytest: %v", err)
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, user+":") {
			continue
		}
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteString("\n")
		}
	}
	return out.String()
}
