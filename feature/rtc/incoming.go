package rtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// Incoming is a call that is ringing. Exactly one of Answer or Reject takes
// effect; later calls return an error.
type Incoming struct {
	// From is the caller's URI, To the called URI.
	From, To string
	// Transport is "udp" or "tcp".
	Transport string
	// Source is the address the INVITE came from (ip:port), for callers
	// that only take calls from an address they were told about.
	Source string
	// Offer is the caller's session description.
	Offer *sdp.Session

	p       *Phone
	req     *sip.Request
	choice  sdp.Choice
	decided chan decision
	once    sync.Once
	result  chan answerResult
}

type decision struct {
	answer bool
	code   int
	opts   CallOptions
}

type answerResult struct {
	call *Call
	err  error
}

// ErrDecided is returned when Answer or Reject is called twice, or after the
// caller cancelled or the ring timeout passed.
var ErrDecided = errors.New("rtc: incoming call already answered, rejected or gone")

// Answer accepts the call and starts media with opts.
func (in *Incoming) Answer(opts CallOptions) (*Call, error) {
	sent := false
	in.once.Do(func() {
		in.decided <- decision{answer: true, opts: opts}
		sent = true
	})
	if !sent {
		return nil, ErrDecided
	}
	r := <-in.result
	return r.call, r.err
}

// Reject declines the call with a SIP status: 486 (busy), 603 (decline) or
// 480 (unavailable); other codes are sent as given.
func (in *Incoming) Reject(code int) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("rtc: reject with %d: want a status 300-699 such as 486 or 603", code)
	}
	sent := false
	in.once.Do(func() {
		in.decided <- decision{code: code}
		sent = true
	})
	if !sent {
		return ErrDecided
	}
	r := <-in.result
	return r.err
}

// refuse answers an incoming INVITE with an error and tells OnRefused.
func (p *Phone) refuse(tx sip.ServerTransaction, req *sip.Request, code int, reason string, err error, hdrs ...sip.Header) {
	respond(tx, req, code, statusText(code), hdrs...)
	if p.cfg.OnRefused != nil {
		r := Refused{Source: req.Source(), Code: code, Reason: reason, Err: err}
		if f := req.From(); f != nil {
			r.From = f.Address.String()
		}
		go p.cfg.OnRefused(r)
	}
}

// onInvite handles INVITE: a new call, or a re-INVITE in an existing dialog.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	start := time.Now()
	if req.CallID() == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	if _, ok := req.To().Params.Get("tag"); ok {
		p.reinvite(req, tx)
		return
	}
	if _, ok := req.From().Params.Get("tag"); !ok {
		p.refuse(tx, req, 400, "INVITE without From tag", ErrRejected)
		return
	}
	if req.Contact() == nil {
		p.refuse(tx, req, 400, "INVITE without Contact", ErrRejected)
		return
	}
	if len(req.Body()) == 0 {
		// An INVITE without offer: we do not make the offer in the 200.
		p.refuse(tx, req, 488, "INVITE without SDP offer", ErrNotAccepted, sip.NewHeader("Warning", `399 rtc "INVITE without SDP offer is not supported"`))
		return
	}
	if ct := req.ContentType(); ct != nil && !equalFoldPrefix(string(*ct), "application/sdp") {
		p.refuse(tx, req, 415, "body is "+string(*ct)+", not application/sdp", ErrNotAccepted, sip.NewHeader("Accept", "application/sdp"))
		return
	}
	offer, err := sdp.Parse(req.Body())
	if err != nil {
		p.refuse(tx, req, 400, "malformed SDP: "+err.Error(), ErrRejected, sip.NewHeader("Warning", `399 rtc "malformed SDP"`))
		return
	}
	choice, err := sdp.Negotiate(offer, p.cfg.Codecs)
	if err != nil {
		p.refuse(tx, req, 488, "no common codec: "+err.Error(), ErrNotAccepted, sip.NewHeader("Warning", `304 rtc "no common codec; we support PCMU, PCMA"`))
		return
	}
	p.mu.Lock()
	busy := len(p.calls) >= p.cfg.MaxCalls || p.closed
	p.mu.Unlock()
	if busy {
		p.refuse(tx, req, 486, "all lines busy", ErrBusy)
		return
	}
	transport := "udp"
	if req.Transport() == "TCP" || req.Transport() == "tcp" {
		transport = "tcp"
	}
	peer, _, _ := net.SplitHostPort(req.Source())
	ip := p.advertise(net.ParseIP(peer))
	sess, err := p.dialogUA(ip, transport).ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	defer sess.Close()
	if err := sess.Respond(180, "Ringing", nil); err != nil {
		p.log.Debug("rtc: 180", "err", err)
	}
	in := &Incoming{
		From: req.From().Address.String(), To: req.To().Address.String(), Transport: transport, Source: req.Source(),
		Offer: offer, p: p, req: req, choice: choice,
		decided: make(chan decision, 1), result: make(chan answerResult, 1),
	}
	if p.cfg.OnIncoming != nil {
		go p.cfg.OnIncoming(in)
	} else {
		go in.Answer(CallOptions{})
	}
	ring := time.NewTimer(p.cfg.RingTimeout)
	defer ring.Stop()
	var d decision
	select {
	case d = <-in.decided:
	case <-sess.Context().Done(): // CANCEL or transaction end
		in.once.Do(func() {})
		// An Answer or Reject that raced with the CANCEL gets this.
		in.result <- answerResult{err: fmt.Errorf("rtc: caller cancelled: %w", ErrDecided)}
		return
	case <-ring.C:
		in.once.Do(func() {})
		sess.Respond(480, statusText(480), nil)
		in.result <- answerResult{err: fmt.Errorf("rtc: ring timeout: %w", ErrDecided)}
		return
	}
	if sess.Context().Err() != nil {
		// The CANCEL arrived together with the decision.
		in.result <- answerResult{err: fmt.Errorf("rtc: caller cancelled: %w", ErrDecided)}
		return
	}
	if !d.answer {
		err := sess.Respond(d.code, statusText(d.code), nil)
		in.result <- answerResult{err: err}
		return
	}
	rtpConn, rtcpConn, err := p.bindMedia()
	if err != nil {
		sess.Respond(503, "Service Unavailable", nil)
		in.result <- answerResult{err: fmt.Errorf("rtc: answer: %w", err)}
		return
	}
	localTag, _ := sess.InviteRequest.To().Params.Get("tag")
	remoteTag, _ := req.From().Params.Get("tag")
	c := &Call{phone: p, remoteURI: in.From, choice: choice, uas: sess,
		key:     dialogKey(string(*req.CallID()), localTag, remoteTag),
		rtpConn: rtpConn, rtcpConn: rtcpConn, acked: make(chan struct{}), done: make(chan struct{})}
	sessID := uint64(time.Now().UnixNano() & 0x7fffffffffff)
	c.localSDP = sdp.Answer(choice, sessID, 1, ip.String(), rtpConn.LocalAddr().(*net.UDPAddr).Port)
	if err := p.register(c); err != nil {
		rtpConn.Close()
		rtcpConn.Close()
		sess.Respond(486, "Busy Here", nil)
		in.result <- answerResult{err: fmt.Errorf("rtc: answer: %w", err)}
		return
	}
	ct := sip.ContentTypeHeader("application/sdp")
	if err := sess.Respond(200, "OK", c.localSDP.Marshal(), &ct); err != nil {
		c.end(err)
		in.result <- answerResult{err: fmt.Errorf("rtc: answer: send 200: %w", err)}
		return
	}
	c.setup = time.Since(start)
	if err := c.startMedia(d.opts); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sess.Bye(ctx)
		cancel()
		c.end(err)
		in.result <- answerResult{err: fmt.Errorf("rtc: answer: %w", err)}
		return
	}
	in.result <- answerResult{call: c}
	// Keep the transaction until the ACK (or the call ends), so 200
	// retransmissions over UDP are handled.
	select {
	case <-c.acked:
	case <-c.done:
	case <-time.After(32 * time.Second):
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sess.Bye(ctx)
		cancel()
		c.end(errors.New("rtc: no ACK for 200 OK within 32 s"))
	}
}

// reinvite answers an in-dialog INVITE (session refresh, hold, address
// change) with our current description, following a new remote address.
func (p *Phone) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	var ch sdp.Choice
	if len(req.Body()) > 0 {
		offer, err := sdp.Parse(req.Body())
		if err != nil {
			respond(tx, req, 400, "Bad Request")
			return
		}
		ch, err = sdp.Negotiate(offer, p.cfg.Codecs)
		if err != nil {
			respond(tx, req, 488, "Not Acceptable Here")
			return
		}
	}
	c.mu.Lock()
	if ch.Addr != "" {
		// Keep our codec (the answer below still names it); follow the
		// peer to a new media address.
		if ip := net.ParseIP(ch.Addr); ip != nil && c.stream != nil &&
			(ch.Addr != c.choice.Addr || ch.Port != c.choice.Port) {
			c.stream.SetRemote(&net.UDPAddr{IP: ip, Port: ch.Port}, &net.UDPAddr{IP: ip, Port: ch.RTCPPort})
		}
		c.choice.Addr, c.choice.Port, c.choice.RTCPPort = ch.Addr, ch.Port, ch.RTCPPort
		c.choice.Direction = ch.Direction
		// Hold and resume (RFC 3264 8.4): answer sendonly with recvonly,
		// inactive with inactive, sendrecv with sendrecv; a new version.
		if dir := answerDirection(ch.Direction); len(c.localSDP.Media) > 0 && (c.localSDP.Media[0].Direction != dir && !(dir == "sendrecv" && c.localSDP.Media[0].Direction == "")) {
			next := *c.localSDP
			next.Media = append([]sdp.Media(nil), c.localSDP.Media...)
			next.Media[0].Direction = dir
			next.Version++
			c.localSDP = &next
		}
	}
	body := c.localSDP.Marshal()
	c.mu.Unlock()
	if ch.Addr != "" {
		c.applyDirection(ch.Direction)
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	if err := tx.Respond(res); err != nil {
		p.log.Debug("rtc: re-INVITE 200", "err", err)
	}
}

func equalFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
