// Package events is msmsgs's event stream: the events both accounts (the
// .NET Messenger client and the SIP account) and the daemon's components
// (file transfers, calls) publish, numbered in one sequence, with a short
// history and subscriptions that are dropped when they fall behind. The
// daemon owns one Stream and hands it to each account, so a daemon with
// only a SIP account needs no .NET Messenger client to carry it.
package events

import (
	"sync"
	"time"
)

// Event types.
const (
	EventSignedIn     = "signed-in"
	EventPresence     = "presence"     // a contact's status or name changed
	EventStatus       = "status"       // our own status or name changed
	EventMessage      = "message"      // a text message arrived
	EventTyping       = "typing"       // a contact is typing
	EventAddedBy      = "added-by"     // someone added us to their contact list
	EventRemovedBy    = "removed-by"   // someone removed us from their list
	EventContacts     = "contacts"     // our lists changed (ADD/REM)
	EventJoined       = "joined"       // a participant joined a conversation
	EventLeft         = "left"         // a participant left a conversation
	EventDelivered    = "delivered"    // a sent message was acknowledged
	EventUndelivered  = "undelivered"  // a sent message could not be delivered
	EventDisconnected = "disconnected" // the NS connection ended
	EventError        = "error"        // an error the user should know about
	EventInvitation   = "invitation"   // an invitation arrived (file, voice)
)

// Event is something that happened, in a form that marshals to one JSON line.
// It never carries a password.
type Event struct {
	Seq          uint64    `json:"seq"`
	Type         string    `json:"type"`
	Time         time.Time `json:"time"`
	Account      string    `json:"account,omitempty"` // the contact concerned
	Name         string    `json:"name,omitempty"`
	Status       string    `json:"status,omitempty"`
	Text         string    `json:"text,omitempty"`
	Conversation string    `json:"conversation,omitempty"`
	Reason       string    `json:"reason,omitempty"` // machine-readable cause: lost, OTH, SSD, nak, ...
	Error        string    `json:"error,omitempty"`

	// File transfer events (published by msmsgs's transfer manager).
	Cookie uint32 `json:"cookie,omitempty"` // Invitation-Cookie
	File   string `json:"file,omitempty"`   // file name as offered
	Size   int64  `json:"size,omitempty"`   // file size in bytes
	Bytes  int64  `json:"bytes,omitempty"`  // bytes transferred so far
	Total  int64  `json:"total,omitempty"`  // bytes to transfer
	Path   string `json:"path,omitempty"`   // where the file is (sender: source; receiver: downloads)
	SHA256 string `json:"sha256,omitempty"` // hex SHA-256 of the received file
	Port   int    `json:"port,omitempty"`   // MSNFTP port listened on

	*CallEvent // voice call events (call.go)
}

// historySize is how many recent events are kept for History.
const historySize = 256

// Subscription receives events on C until Close or until it falls behind by
// more than its buffer, in which case C is closed and Lagged reports true.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	hub    *Stream
	lagged bool
}

// Lagged reports whether the subscription was closed because its reader
// fell behind.
func (s *Subscription) Lagged() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.lagged
}

// Close stops delivery and closes C.
func (s *Subscription) Close() { s.hub.remove(s) }

// Stream is an event stream; the zero value is ready to use.
type Stream struct {
	mu      sync.Mutex
	seq     uint64
	subs    map[*Subscription]struct{}
	history []Event // ring, oldest first once full
	next    int
}

// Publish adds e to the stream and returns it with its Seq (and Time,
// when unset) filled in.
func (h *Stream) Publish(e Event) Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	e.Seq = h.seq
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if len(h.history) < historySize {
		h.history = append(h.history, e)
	} else {
		h.history[h.next] = e
		h.next = (h.next + 1) % historySize
	}
	for s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.lagged = true
			delete(h.subs, s)
			close(s.c)
		}
	}
	return e
}

// Subscribe returns a subscription to new events with a buffer of buf
// (default 64), the recent history (oldest first) and the sequence number
// of the last event published before the subscription started.
func (h *Stream) Subscribe(buf int) (*Subscription, []Event, uint64) {
	if buf <= 0 {
		buf = 64
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = make(map[*Subscription]struct{})
	}
	c := make(chan Event, buf)
	s := &Subscription{C: c, c: c, hub: h}
	h.subs[s] = struct{}{}
	hist := make([]Event, 0, len(h.history))
	hist = append(hist, h.history[h.next:]...)
	hist = append(hist, h.history[:h.next]...)
	return s, hist, h.seq
}

func (h *Stream) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// LastSeq is the sequence number of the last event published.
func (h *Stream) LastSeq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}
