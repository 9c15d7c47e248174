package github

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateGate is the transport of a Client's calls. Once GitHub has answered
// a rate limit with Retry-After (429, or 403 with Retry-After), it answers
// every call of the Client itself, with a 429 whose Retry-After is the time
// left, until that time has passed: no job asks GitHub again sooner than it
// said, whichever job was told. The answer goes through go-github's error
// mapping like GitHub's own, so the job is deferred (jobError).
type rateGate struct {
	next http.RoundTripper
	now  func() time.Time

	mu    sync.Mutex
	until time.Time // no call to GitHub before
}

// heldBackMessage is the message of the gate's own 429.
const heldBackMessage = "Warroom holds back its calls to GitHub until the Retry-After GitHub gave has passed"

func (g *rateGate) RoundTrip(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	until := g.until
	g.mu.Unlock()
	if wait := until.Sub(g.now()); wait > 0 {
		if req.Body != nil {
			req.Body.Close()
		}
		body := `{"message":"` + heldBackMessage + `"}`
		return &http.Response{
			Status: "429 Too Many Requests", StatusCode: http.StatusTooManyRequests,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{
				"Retry-After":  {strconv.Itoa(int((wait + time.Second - 1) / time.Second))},
				"Content-Type": {"application/json; charset=utf-8"},
			},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
		}, nil
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if code := resp.StatusCode; code == http.StatusTooManyRequests || code == http.StatusForbidden {
		if d, ok := retryAfterHeader(resp.Header); ok && d > 0 {
			g.mu.Lock()
			if t := g.now().Add(d); t.After(g.until) {
				g.until = t
			}
			g.mu.Unlock()
		}
	}
	return resp, nil
}

// gated returns a copy of httpClient (a new one when nil) whose transport
// is a rateGate.
func gated(httpClient *http.Client) *http.Client {
	var hc http.Client
	if httpClient != nil {
		hc = *httpClient
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &rateGate{next: next, now: time.Now}
	return &hc
}
