//go:build !linux

package server

import (
	"errors"
	"syscall"
)

// poller is Linux-only (epoll); elsewhere idle sessions keep a goroutine
// waiting in Read.
type poller struct{}

func newPoller() (*poller, error) { return nil, errors.New("no poller on this system") }

func (p *poller) park(c *conn) bool { return false }
func (p *poller) forget(c *conn)    {}
func (p *poller) stop()             {}

var _ syscall.RawConn // keeps conn.raw's type in use on every system
