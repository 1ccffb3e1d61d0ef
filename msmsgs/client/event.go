package client

import "github.com/oemkit/messenger/msmsgs/events"

// The event stream lives in package events (the SIP account publishes on
// it too); these names keep the client's API.
type (
	Event        = events.Event
	Subscription = events.Subscription
	CallEvent    = events.CallEvent
	CallStats    = events.CallStats
)

// Event types (see package events).
const (
	EventSignedIn      = events.EventSignedIn
	EventPresence      = events.EventPresence
	EventStatus        = events.EventStatus
	EventMessage       = events.EventMessage
	EventTyping        = events.EventTyping
	EventAddedBy       = events.EventAddedBy
	EventRemovedBy     = events.EventRemovedBy
	EventContacts      = events.EventContacts
	EventJoined        = events.EventJoined
	EventLeft          = events.EventLeft
	EventDelivered     = events.EventDelivered
	EventUndelivered   = events.EventUndelivered
	EventDisconnected  = events.EventDisconnected
	EventError         = events.EventError
	EventInvitation    = events.EventInvitation
	EventCallOffer     = events.EventCallOffer
	EventCallRinging   = events.EventCallRinging
	EventCallConnected = events.EventCallConnected
	EventCallStats     = events.EventCallStats
	EventCallEnded     = events.EventCallEnded
	EventCallDeclined  = events.EventCallDeclined
	EventCallDTMF      = events.EventCallDTMF
)
