package sipua

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
)

// Calls through the SIP server: INVITE, ACK, BYE and CANCEL travel on the
// signed connection like every other request; the server forwards them to
// the other party's registered connection. What the account sends in a
// call - requests and its answers to the other party's requests - is
// signed with the account's security association ([MS-SIP] 3.1.4.2: the
// sender signs every message, the response code entering the signature
// buffer of a response), so the server forwards only what the signed-in
// user sent.

// NewRequest starts a request of ours in dialog callID: our address of
// record and tag in From, to in To (the caller adds a To tag in a dialog).
func (ua *UA) NewRequest(method, uri, to, callID string) *sipmsg.Message {
	return ua.newRequest(method, uri, to, callID)
}

// Tag is the From tag of our requests and the To tag of our answers.
func (ua *UA) Tag() string { return ua.fromTag }

// Contact is our Contact header value.
func (ua *UA) Contact() string {
	return "<sip:" + ua.user + "@" + ua.conn.LocalAddr().String() + ";transport=tcp>"
}

// Send signs m (a request without an answer, such as ACK, or our
// response to a forwarded request) and writes it.
func (ua *UA) Send(m *sipmsg.Message) error {
	ua.mu.Lock()
	sa, closed, cerr := ua.sa, ua.closed, ua.closeErr
	ua.mu.Unlock()
	if closed {
		return cerr
	}
	if sa == nil {
		return fmt.Errorf("%w: not signed in", sipae.ErrNoSA)
	}
	ua.wmu.Lock()
	defer ua.wmu.Unlock()
	if err := sa.SignRequest(m); err != nil {
		return err
	}
	_ = ua.conn.SetWriteDeadline(time.Now().Add(ua.cfg.Timeout))
	if _, err := ua.conn.Write(m.Bytes()); err != nil {
		return fmt.Errorf("%w: sending %s to %s: %v", ErrClosed, what(m), ua.cfg.Server, err)
	}
	return nil
}

func what(m *sipmsg.Message) string {
	if m.IsRequest() {
		return m.Method
	}
	return strconv.Itoa(m.Code)
}

// Respond answers a forwarded request, signed; extra are header name,
// value pairs. A To without a tag gets ours.
func (ua *UA) Respond(req *sipmsg.Message, code int, reason string, body []byte, extra ...string) error {
	r := sipmsg.NewResponse(req, code, reason)
	if r.Get("To") != "" && sipmsg.Param(r.Get("To"), "tag") == "" && code != 100 {
		r.Set("To", r.Get("To")+";tag="+ua.fromTag)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Add(extra[i], extra[i+1])
	}
	r.Body = body
	return ua.Send(r)
}

// Invite sends req (an INVITE, or any request whose provisional answers
// matter) signed and waits for its final answer or ctx, passing each
// provisional one, its server signature verified, to progress. The final
// answer is returned whatever its code once its signature verifies.
func (ua *UA) Invite(ctx context.Context, req *sipmsg.Message, progress func(*sipmsg.Message)) (*sipmsg.Message, error) {
	ch := make(chan result, 16)
	key := txKey(req)
	ua.mu.Lock()
	if ua.closed {
		err := ua.closeErr
		ua.mu.Unlock()
		return nil, err
	}
	ua.pending[key] = ch
	ua.mu.Unlock()
	defer func() { ua.mu.Lock(); delete(ua.pending, key); ua.mu.Unlock() }()
	if err := ua.Send(req); err != nil {
		return nil, err
	}
	for {
		select {
		case r := <-ch:
			if r.verr != nil {
				if r.m.Code >= 200 && r.m.Get("Authentication-Info") == "" {
					return nil, rejected(req, r.m)
				}
				return nil, fmt.Errorf("%s: the server's answer is not signed by it: %w", req.Method, r.verr)
			}
			if r.m.Code < 200 {
				if progress != nil {
					progress(r.m)
				}
				continue
			}
			return r.m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ua.done:
			return nil, fmt.Errorf("%w: %s to %s: %v", ErrClosed, req.Method, ua.cfg.Server, ua.closeErr)
		}
	}
}

// Do sends req signed and returns its final answer (any code), verified,
// within the transaction timeout.
func (ua *UA) Do(ctx context.Context, req *sipmsg.Message) (*sipmsg.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, ua.cfg.Timeout)
	defer cancel()
	r, err := ua.Invite(ctx, req, nil)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: no answer to %s from %s within %s", ErrProtocol, req.Method, ua.cfg.Server, ua.cfg.Timeout)
	}
	return r, err
}

// Done is closed when the connection ends.
func (ua *UA) Done() <-chan struct{} { return ua.done }

// LocalAddr is the local address of the connection to the server: the
// address the other party of a call reaches us at for media.
func (ua *UA) LocalAddr() net.Addr { return ua.conn.LocalAddr() }
