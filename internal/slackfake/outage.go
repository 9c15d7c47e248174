package slackfake

import (
	"net/http"
	"sync"
	"time"
)

// An outage makes Slack unavailable "for a while", for every method and
// for response URL posts, until Recover: the way a test shows that Warroom
// keeps its promises while Slack is down.
//
//	f.Down(slackfake.Fault{Status: http.StatusServiceUnavailable}) // every call: 503
//	f.Hang(http.StatusGatewayTimeout)                              // every call hangs until Recover, then 504
//	f.Recover()                                                    // Slack is back
//
// An outage is built on SetFaultFunc: while it lasts it replaces any
// function set there (which Recover puts back), and FailNext entries still
// come first. A call answered by the outage changes nothing, as it never
// reached Slack; Calls records it with Faulted set, and its Received time.

// outage is the state of Down and Hang.
type outage struct {
	mu       sync.Mutex
	on       bool
	fault    Fault
	hang     bool
	released chan struct{}           // closed by Recover: hung calls answer
	saved    func(string, int) Fault // SetFaultFunc's function before the outage
	began    time.Time
	ended    time.Time
}

func (f *Fake) outage() *outage { return &f.out }

// Down makes every call fail with fault (a 5xx, or 429 with RetryAfter, or
// a Slack error) until Recover. A fault with only a Delay is made a 503
// after that delay. Calling Down again changes the fault.
func (f *Fake) Down(fault Fault) {
	if !fault.fails() {
		fault.Status = http.StatusServiceUnavailable
	}
	f.startOutage(fault, false)
}

// Hang makes every call hang until Recover (or Close), as when Slack stops
// answering, and then answer status (504 if 0): a client whose timeout is
// shorter than the outage gives up first. Hung calls change nothing.
func (f *Fake) Hang(status int) {
	if status == 0 {
		status = http.StatusGatewayTimeout
	}
	f.startOutage(Fault{Status: status}, true)
}

func (f *Fake) startOutage(fault Fault, hang bool) {
	o := f.outage()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.on {
		f.mu.Lock()
		o.saved = f.faultFn
		f.mu.Unlock()
		o.on, o.began, o.ended = true, time.Now(), time.Time{}
		o.released = make(chan struct{})
	}
	o.fault, o.hang = fault, hang
	f.SetFaultFunc(f.outageFault)
}

// outageFault is the fault function of an outage.
func (f *Fake) outageFault(method string, n int) Fault {
	o := f.outage()
	o.mu.Lock()
	on, ft, hang, released, saved := o.on, o.fault, o.hang, o.released, o.saved
	o.mu.Unlock()
	if !on {
		if saved != nil {
			return saved(method, n)
		}
		return Fault{}
	}
	if hang {
		select {
		case <-released:
		case <-f.closed:
		}
	}
	return ft
}

// Recover ends an outage: hung calls are answered with the outage's
// fault, and later calls are served again (with the function SetFaultFunc
// had before the outage).
func (f *Fake) Recover() {
	o := f.outage()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.on {
		return
	}
	o.on, o.ended = false, time.Now()
	close(o.released)
	f.SetFaultFunc(o.saved)
}

// Outage reports when the current or last outage began and ended (by the
// wall clock; ended is zero while it lasts, both are zero if there was
// none).
func (f *Fake) Outage() (began, ended time.Time) {
	o := f.outage()
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.began, o.ended
}
