package loadtest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
)

// pipeListener is an in-memory network for a run inside a synctest
// bubble, where real sockets do not work (a goroutine waiting on a socket
// is not durably blocked, so the bubble's clock would never move). Its
// dial makes a net.Pipe and hands the server end to Accept.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	srv, cli := net.Pipe()
	select {
	case l.conns <- srv:
		return cli, nil
	case <-l.closed:
	case <-ctx.Done():
	}
	srv.Close()
	cli.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, net.ErrClosed
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// newPipeHooks is newHooks for a synctest bubble: the hooks are served by
// a real http.Server over an in-memory network, and the returned client,
// a real http.Transport, is the only way to reach them. The run and the
// hooks both use the bubble's clock (the default wall clock, faked inside
// the bubble). Everything is closed before the bubble ends.
func newPipeHooks(t *testing.T) (h *hooks, url string, client *http.Client) {
	h = &hooks{t: t, clk: wallClock{}}
	ln := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{DialContext: ln.dial} // no proxy from the environment
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
		<-served
	})
	return h, "http://loadtest.test", &http.Client{Transport: tr}
}
