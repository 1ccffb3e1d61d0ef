package rtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/oemkit/messenger/feature/rtc/media"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// Call is an established voice call.
type Call struct {
	phone     *Phone
	key       string
	outgoing  bool
	remoteURI string
	choice    sdp.Choice
	setup     time.Duration

	uac *sipgo.DialogClientSession
	uas *sipgo.DialogServerSession

	rtpConn, rtcpConn *net.UDPConn
	localSDP          *sdp.Session
	mu                sync.Mutex // guards choice, stream, localSDP after the call is registered

	stream  *media.Stream
	held    atomic.Bool // the peer's description is not sendrecv (RFC 3264 hold)
	acked   chan struct{}
	ackOnce sync.Once

	endOnce sync.Once
	done    chan struct{}
	reason  error
}

// ErrRemoteHangup is the end reason of a call the peer hung up.
var ErrRemoteHangup = errors.New("rtc: remote hung up")

// ErrLocalHangup is the end reason of a call we hung up.
var ErrLocalHangup = errors.New("rtc: local hang-up")

// ErrMediaTimeout is the end reason of a call that received no RTP.
var ErrMediaTimeout = errors.New("rtc: no media received; check that UDP between the phones is not blocked")

// Outgoing reports whether we placed the call.
func (c *Call) Outgoing() bool { return c.outgoing }

// Remote returns the peer's URI.
func (c *Call) Remote() string { return c.remoteURI }

// Codec returns the negotiated voice codec name.
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.choice.Audio.Name
}

func (c *Call) getStream() *media.Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stream
}

// SetupTime is the time from sending INVITE to receiving 200 OK (outgoing),
// or from receiving INVITE to sending 200 OK (incoming).
func (c *Call) SetupTime() time.Duration { return c.setup }

// Stats returns the media statistics; safe while the call runs.
func (c *Call) Stats() media.Stats {
	if st := c.getStream(); st != nil {
		return st.Stats()
	}
	return media.Stats{}
}

// Held reports whether the peer has put the call on hold (its last
// description was sendonly, recvonly or inactive). A held call is not hung
// up for missing media.
func (c *Call) Held() bool { return c.held.Load() }

// applyDirection follows the peer's direction attribute: we send only if
// it receives, and anything but sendrecv is a hold.
func (c *Call) applyDirection(remote string) {
	c.held.Store(remote != "" && remote != "sendrecv")
	if st := c.getStream(); st != nil {
		st.SetSending(remote == "" || remote == "sendrecv" || remote == "recvonly")
	}
}

// answerDirection is the direction that answers an offered one (RFC 3264 6.1).
func answerDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// Done is closed when the call ends.
func (c *Call) Done() <-chan struct{} { return c.done }

// Reason tells why the call ended: ErrLocalHangup, ErrRemoteHangup,
// ErrMediaTimeout or a signalling error. Nil while it runs.
func (c *Call) Reason() error {
	select {
	case <-c.done:
		return c.reason
	default:
		return nil
	}
}

// SendDTMF sends a digit as an RFC 4733 telephone event.
func (c *Call) SendDTMF(digit byte) error {
	st := c.getStream()
	if st == nil {
		return errors.New("rtc: send DTMF: media has not started")
	}
	return st.SendDTMF(digit)
}

// Hangup sends BYE and ends the call.
func (c *Call) Hangup(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	var err error
	if c.uac != nil {
		err = c.uac.Bye(ctx)
		c.uac.Close()
	} else {
		// A BYE before the ACK is allowed (RFC 3261 15); wait briefly for it.
		select {
		case <-c.acked:
		case <-time.After(200 * time.Millisecond):
		}
		err = c.uas.Bye(ctx)
		c.uas.Close()
	}
	c.end(ErrLocalHangup)
	if err != nil {
		return fmt.Errorf("rtc: hang up: %w", err)
	}
	return nil
}

func (c *Call) end(reason error) {
	c.endOnce.Do(func() {
		c.reason = reason
		if st := c.getStream(); st != nil {
			st.Close()
		} else {
			c.rtpConn.Close()
			c.rtcpConn.Close()
		}
		c.phone.unregister(c)
		close(c.done)
	})
}

func (c *Call) gotAck(req *sip.Request, tx sip.ServerTransaction) {
	if c.uas != nil {
		c.uas.ReadAck(req, tx)
	}
	c.ackOnce.Do(func() { close(c.acked) })
}

func (c *Call) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	var err error
	if c.uac != nil {
		err = c.uac.ReadBye(req, tx)
	} else {
		err = c.uas.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 200, "OK")
	}
	c.end(ErrRemoteHangup)
}

// startMedia starts RTP towards the negotiated address.
func (c *Call) startMedia(opts CallOptions) error {
	c.mu.Lock()
	choice := c.choice
	c.mu.Unlock()
	ip := net.ParseIP(choice.Addr)
	if ip == nil {
		ips, err := net.LookupIP(choice.Addr)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("rtc: media address %q does not resolve", choice.Addr)
		}
		ip = ips[0]
	}
	codec, err := media.NewCodec(choice.Audio.Name, choice.Audio.PT)
	if err != nil {
		return err
	}
	ev := -1
	if choice.Event != nil {
		ev = int(choice.Event.PT)
	}
	cfg := media.Config{
		RTP: c.rtpConn, RTCP: c.rtcpConn,
		Remote:     &net.UDPAddr{IP: ip, Port: choice.Port},
		RemoteRTCP: &net.UDPAddr{IP: ip, Port: choice.RTCPPort},
		Codec:      codec, EventPT: ev,
		Source: opts.Source, Sink: opts.Sink,
		Jitter: c.phone.cfg.Jitter,
		CNAME:  c.phone.cfg.User + "@" + c.rtpConn.LocalAddr().String(),
		Logger: c.phone.log,
	}
	cfg.OnDTMF = opts.OnDTMF
	if opts.HangupOnSourceEnd {
		cfg.OnSourceEnd = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.Hangup(ctx)
		}
	}
	st, err := media.Start(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stream = st
	c.mu.Unlock()
	select {
	case <-c.done:
		// Hung up (BYE) while media was starting: end took the sockets
		// but not this stream.
		st.Close()
		return nil
	default:
	}
	c.applyDirection(choice.Direction)
	if to := c.phone.cfg.MediaTimeout; to > 0 {
		go c.watchMedia(to)
	}
	return nil
}

// watchMedia hangs up when no RTP arrived for d.
func (c *Call) watchMedia(d time.Duration) {
	tick := time.NewTicker(min(d/4, time.Second))
	defer tick.Stop()
	last, lastAt := uint64(0), time.Now()
	for {
		select {
		case <-c.done:
			return
		case now := <-tick.C:
			n := c.Stats().PacketsReceived
			if c.held.Load() {
				// On hold the peer may send nothing for minutes.
				last, lastAt = n, now
				continue
			}
			if n != last {
				last, lastAt = n, now
				continue
			}
			if now.Sub(lastAt) >= d {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if c.uac != nil {
					c.uac.Bye(ctx)
				} else {
					c.uas.Bye(ctx)
				}
				cancel()
				c.end(ErrMediaTimeout)
				return
			}
		}
	}
}

// Dial calls target ("sip:user@host:port", or "host:port") and waits until it
// answers, is rejected or InviteTimeout passes (then it sends CANCEL).
func (p *Phone) Dial(ctx context.Context, target string, opts CallOptions) (*Call, error) {
	if p.client == nil {
		return nil, errors.New("rtc: dial: phone not started; call Start first")
	}
	transport := opts.Transport
	if transport == "" {
		transport = "udp"
		if p.ports["udp"] == 0 {
			transport = "tcp"
		}
	}
	if p.ports[transport] == 0 {
		return nil, fmt.Errorf("rtc: dial over %s: the phone does not listen on %s; add it to Transports", transport, transport)
	}
	var uri sip.Uri
	t := target
	if len(t) < 4 || (t[:4] != "sip:" && t[:4] != "SIP:") {
		t = "sip:" + t
	}
	if err := sip.ParseUri(t, &uri); err != nil {
		return nil, fmt.Errorf("rtc: dial %q: %w; use sip:user@host:port", target, err)
	}
	if uri.Port == 0 {
		uri.Port = DefaultPort
	}
	if uri.UriParams == nil {
		uri.UriParams = sip.NewParams()
	}
	if transport == "tcp" {
		uri.UriParams.Add("transport", "tcp")
	} else {
		uri.UriParams.Remove("transport")
	}
	peerIP := net.ParseIP(uri.Host)
	ip := p.advertise(peerIP)

	rtpConn, rtcpConn, err := p.bindMedia()
	if err != nil {
		return nil, fmt.Errorf("rtc: dial: %w", err)
	}
	sessID := uint64(time.Now().UnixNano() & 0x7fffffffffff)
	offer := sdp.NewAudio(sessID, 1, ip.String(), rtpConn.LocalAddr().(*net.UDPAddr).Port, p.offerCodecs(), 20)
	c := &Call{phone: p, outgoing: true, remoteURI: uri.String(), rtpConn: rtpConn, rtcpConn: rtcpConn,
		localSDP: offer, acked: make(chan struct{}), done: make(chan struct{})}
	closeMedia := func() { rtpConn.Close(); rtcpConn.Close() }

	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.cfg.User, Host: ip.String()}, Params: sip.NewParams()}
	localTag := sip.GenerateTagN(16)
	from.Params.Add("tag", localTag)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uri.User, Host: uri.Host, Port: uri.Port}, Params: sip.NewParams()}
	ct := sip.ContentTypeHeader("application/sdp")
	dua := p.dialogUA(ip, transport)

	ictx, cancel := context.WithTimeout(ctx, p.cfg.InviteTimeout)
	defer cancel()
	start := time.Now()
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetBody(offer.Marshal())
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&ct)
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"))
	if transport == "tcp" {
		req.SetTransport("TCP")
	} else {
		// Send from the listening socket so the peer sees port 6901 as our
		// source, as the RTC Client API does.
		req.SetTransport("UDP")
		req.Laddr = p.udpAddr
	}
	sess, err := dua.WriteInvite(ictx, req)
	if err != nil {
		closeMedia()
		return nil, fmt.Errorf("rtc: dial %s: send INVITE: %w", target, err)
	}
	err = sess.WaitAnswer(ictx, sipgo.AnswerOptions{})
	c.setup = time.Since(start)
	if err != nil {
		closeMedia()
		sess.Close()
		var de *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &de):
			return nil, fmt.Errorf("rtc: dial %s: %d %s: %w", target, de.Res.StatusCode, de.Res.Reason, classify(de.Res.StatusCode))
		case ctx.Err() != nil:
			return nil, fmt.Errorf("rtc: dial %s: %w", target, ctx.Err())
		case ictx.Err() != nil:
			return nil, fmt.Errorf("rtc: dial %s: no final answer in %s: %w", target, p.cfg.InviteTimeout, ErrNoAnswer)
		}
		return nil, fmt.Errorf("rtc: dial %s: %w", target, err)
	}
	c.uac = sess
	res := sess.InviteResponse
	remoteTag, _ := res.To().Params.Get("tag")
	c.key = dialogKey(string(*res.CallID()), localTag, remoteTag)
	fail := func(err error) (*Call, error) {
		p.unregister(c)
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Second)
		sess.Bye(bctx)
		bcancel()
		sess.Close()
		closeMedia()
		return nil, err
	}
	answer, err := sdp.Parse(res.Body())
	if err != nil {
		sess.Ack(ctx)
		return fail(fmt.Errorf("rtc: dial %s: answer SDP: %w", target, err))
	}
	c.choice, err = sdp.Negotiate(answer, p.cfg.Codecs)
	if err != nil {
		sess.Ack(ctx)
		return fail(fmt.Errorf("rtc: dial %s: %w", target, err))
	}
	// Register before the ACK: the callee may send BYE as soon as it has
	// the ACK, and that BYE must find the call.
	if err := p.register(c); err != nil {
		sess.Ack(ctx)
		return fail(fmt.Errorf("rtc: dial %s: %w", target, err))
	}
	if err := sess.Ack(ctx); err != nil {
		p.log.Debug("rtc: ACK failed", "err", err)
	}
	if err := c.startMedia(opts); err != nil {
		return fail(fmt.Errorf("rtc: dial %s: %w", target, err))
	}
	return c, nil
}

func classify(code int) error {
	switch code {
	case 486, 600:
		return ErrBusy
	case 488, 606, 415:
		return ErrNotAccepted
	case 408, 480, 487:
		return ErrNoAnswer
	case 491:
		return ErrGlare
	}
	return ErrRejected
}

// statusText for the codes we send.
func statusText(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 491:
		return "Request Pending"
	case 415:
		return "Unsupported Media Type"
	case 603:
		return "Decline"
	}
	return "Status " + strconv.Itoa(code)
}
