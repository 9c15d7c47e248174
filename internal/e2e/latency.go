package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// latencyProxy forwards every request to a fake and holds the answer back
// for the current delay. The fake carries the call out at once: a process
// killed while it waits has made the change without learning so, as with
// a real service whose answer is slow.
type latencyProxy struct {
	srv   *httptest.Server
	delay atomic.Int64 // nanoseconds
}

func newLatencyProxy(target string) *latencyProxy {
	u, err := url.Parse(target)
	if err != nil {
		panic(err) // the fakes' URLs are well-formed
	}
	p := &latencyProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if d := time.Duration(p.delay.Load()); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-resp.Request.Context().Done():
			}
		}
		return nil
	}
	p.srv = httptest.NewServer(rp)
	return p
}

// SetGitHubLatency delays every answer of the GitHub fake to Warroom by d
// (0: none), from now on. The call itself is carried out at once. Safe
// from any goroutine. (For Slack, use Slack.SetFaultFunc with a Delay.)
func (w *Warroom) SetGitHubLatency(d time.Duration) { w.githubProxy.delay.Store(int64(d)) }
