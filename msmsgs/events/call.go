package events

// Voice call event types (published by msmsgs's voice component;
// CallEvent carries their details).
const (
	EventCallOffer     = "call-offer"     // a voice invitation arrived: answer or decline it
	EventCallRinging   = "call-ringing"   // our voice invitation went out
	EventCallConnected = "call-connected" // audio flows (codec, remote address)
	EventCallStats     = "call-stats"     // media figures of a connected call, every few seconds
	EventCallEnded     = "call-ended"     // the call ended (reason)
	EventCallDeclined  = "call-declined"  // an invitation refused without asking (busy, malformed, flood)
	EventCallDTMF      = "call-dtmf"      // the peer sent DTMF digits
)

// CallEvent is the part of an Event that describes a voice call; nil for
// other events (its fields then do not appear in the JSON line).
type CallEvent struct {
	Call       string     `json:"call,omitempty"`   // call id: v1, v2, ...
	Codec      string     `json:"codec,omitempty"`  // PCMU or PCMA
	Remote     string     `json:"remote,omitempty"` // the peer's SIP address ip:port
	SetupNS    int64      `json:"setup_ns,omitempty"`
	SIPSetupNS int64      `json:"sip_setup_ns,omitempty"` // of the setup, SIP INVITE to 200 OK
	Digits     string     `json:"digits,omitempty"`
	Stats      *CallStats `json:"stats,omitempty"`
}

// CallStats are a connected call's media figures (call-stats).
type CallStats struct {
	Loss      float64 `json:"loss"` // fraction of expected packets lost
	Lost      int64   `json:"lost"`
	JitterNS  int64   `json:"jitter_ns"`
	Concealed uint64  `json:"concealed"` // frames played by concealment
	RTTNS     int64   `json:"rtt_ns"`
	Sent      uint64  `json:"sent"`
	Received  uint64  `json:"received"`
	// Mean and largest audio latencies of this side's sound card, when
	// its audio is one: capture to wire and wire to playback.
	CaptureNS    int64 `json:"capture_ns,omitempty"`
	CaptureMaxNS int64 `json:"capture_max_ns,omitempty"`
	PlayoutNS    int64 `json:"playout_ns,omitempty"`
	PlayoutMaxNS int64 `json:"playout_max_ns,omitempty"`
}
