// Package fakefault is the fault injection that the PagerDuty and webhook
// fakes share: a queue of faults to answer the next requests with, and the
// answering of one (a status with Retry-After, a hang until the client
// gives up, a dropped connection).
package fakefault

import (
	"io"
	"net/http"
)

// Fault is how a fake answers one request instead of serving it.
type Fault struct {
	// Status is the status to answer, such as 429 or 500; zero with Hang
	// drops the connection once the client gives up.
	Status int
	// RetryAfter is sent as the Retry-After header when set ("30", or an
	// HTTP date).
	RetryAfter string
	// Body is the answer's body; empty means the fake's own error body.
	Body string
	// Hang holds the answer until the client gives up (its context ends,
	// or its timeout) or the fake is closed.
	Hang bool
	// Apply makes the request take effect before the fault is answered:
	// the answer is lost on its way back.
	Apply bool
	// Arrived, when set, is sent to (without blocking) when the fault is
	// being served, so that a test can cancel a hung call at the right
	// moment.
	Arrived chan<- struct{}
}

// Queue holds the faults for the next requests. It is not safe for
// concurrent use: the fake guards it with its own lock.
type Queue struct {
	items []pending
}

type pending struct {
	n     int
	fault Fault
}

// Push queues fault for the next n requests; n <= 0 queues nothing.
func (q *Queue) Push(n int, fault Fault) {
	if n > 0 {
		q.items = append(q.items, pending{n: n, fault: fault})
	}
}

// Next takes the fault for the next request, if one is queued.
func (q *Queue) Next() (Fault, bool) {
	if len(q.items) == 0 {
		return Fault{}, false
	}
	p := &q.items[0]
	ft := p.fault
	if p.n--; p.n == 0 {
		q.items = q.items[1:]
	}
	return ft, true
}

// Serve answers r with ft: it signals Arrived, holds a Hang until the
// request's context ends or done is closed (and then drops the connection
// if ft.Status is 0), sets Retry-After, and writes ft.Body as JSON, or
// calls errorBody to write the fake's own error answer with ft.Status.
func Serve(w http.ResponseWriter, r *http.Request, ft Fault, done <-chan struct{}, errorBody func(w http.ResponseWriter, status int)) {
	if ft.Arrived != nil {
		select {
		case ft.Arrived <- struct{}{}:
		default:
		}
	}
	if ft.Hang {
		select {
		case <-r.Context().Done():
		case <-done:
		}
		if ft.Status == 0 {
			panic(http.ErrAbortHandler) // nobody is listening any more: drop the connection
		}
	}
	if ft.RetryAfter != "" {
		w.Header().Set("Retry-After", ft.RetryAfter)
	}
	if ft.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ft.Status)
		io.WriteString(w, ft.Body)
		return
	}
	errorBody(w, ft.Status)
}
