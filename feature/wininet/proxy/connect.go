package proxy

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// connect opens an HTTP CONNECT tunnel (RFC 9110 section 9.3.6).
func (d *Dialer) connect(conn net.Conn, addr string) (net.Conn, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: MSMSGS\r\n", addr, addr)
	if d.User != "" {
		cred := base64.StdEncoding.EncodeToString([]byte(d.User + ":" + d.Password))
		fmt.Fprintf(&b, "Proxy-Authorization: Basic %s\r\n", cred)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, d.ioFail(addr, "request", err)
	}
	br := bufio.NewReader(conn)
	code, status, err := readConnectReply(br)
	if err != nil {
		return nil, d.fail(addr, "reply", ErrProtocol, err, "check that this is an HTTP proxy")
	}
	if code/100 != 2 {
		return nil, d.connectFail(addr, code, status)
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

func (d *Dialer) connectFail(addr string, code int, status string) error {
	re := &ReplyError{Code: code, Text: status}
	switch {
	case code == http.StatusProxyAuthRequired || code == http.StatusUnauthorized:
		if d.User == "" {
			return d.fail(addr, "auth", ErrAuth, re, "the proxy requires a user name and password; set them under Options > Connection")
		}
		return d.fail(addr, "auth", ErrAuth, re, fmt.Sprintf("wrong user name or password for %q; check them under Options > Connection", d.User))
	case code == http.StatusForbidden || code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented:
		return d.fail(addr, "request", ErrNotAllowed, re, "the proxy does not allow CONNECT to this server and port; use the HTTP gateway, or ask the administrator to allow it")
	case code >= 500:
		return d.fail(addr, "request", ErrDestination, re, "the proxy is working, but the server behind it is down or unreachable from the proxy")
	default:
		return d.fail(addr, "request", ErrProtocol, re, "")
	}
}

// maxConnectReply bounds the header bytes read from a CONNECT reply.
const maxConnectReply = 16 << 10

// readConnectReply reads an HTTP/1.x response head and returns the status
// code and reason. It reads no body: a 2xx reply to CONNECT has none, and a
// failure closes the connection.
func readConnectReply(br *bufio.Reader) (int, string, error) {
	var n int
	line, err := readLine(br, &n)
	if err != nil {
		return 0, "", fmt.Errorf("read status line: %w", err)
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != 8 {
		return 0, "", fmt.Errorf("malformed status line %q", trunc(line))
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	if len(codeStr) != 3 || codeStr[0] < '1' || codeStr[0] > '5' {
		return 0, "", fmt.Errorf("malformed status code in %q", trunc(line))
	}
	code := 0
	for _, c := range codeStr {
		if c < '0' || c > '9' {
			return 0, "", fmt.Errorf("malformed status code in %q", trunc(line))
		}
		code = code*10 + int(c-'0')
	}
	for {
		h, err := readLine(br, &n)
		if err != nil {
			return 0, "", fmt.Errorf("read header: %w", err)
		}
		if h == "" {
			break
		}
		if !strings.Contains(h, ":") {
			return 0, "", fmt.Errorf("malformed header line %q", trunc(h))
		}
	}
	return code, strings.TrimSpace(reason), nil
}

func readLine(br *bufio.Reader, n *int) (string, error) {
	var sb strings.Builder
	for {
		frag, err := br.ReadSlice('\n')
		*n += len(frag)
		if *n > maxConnectReply {
			return "", fmt.Errorf("reply head longer than %d bytes", maxConnectReply)
		}
		sb.Write(frag)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		return strings.TrimRight(sb.String(), "\r\n"), nil
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// bufferedConn returns bytes the reply reader buffered before reading conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}
