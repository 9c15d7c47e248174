// Package pagerdutyfake is a stateful fake of PagerDuty's Events API v2
// endpoint (POST /v2/enqueue), for tests, the demo and end-to-end runs.
//
// A Fake validates events the way PagerDuty documents it: routing_key is
// required and 32 characters long, event_action is trigger, acknowledge or
// resolve, a trigger needs payload.summary (at most 1024 characters),
// payload.source and payload.severity (critical, error, warning or info),
// dedup_key (at most 255 characters) is required for acknowledge and
// resolve, and an event is at most 512 KB. It answers 202
// {"status":"success","message":"Event processed","dedup_key":...}, or 400
// {"status":"invalid event","message":"Event object is invalid","errors":[...]}
// ("Unrecognized object" for a body that is not a JSON object). The
// routing_key length message is PagerDuty's documented one; the other
// messages are in its style.
//
// It keeps alerts by dedup key as PagerDuty does: a trigger opens an alert
// (or adds to the open one), acknowledge and resolve change the open alert
// sent through the same routing key and are dropped otherwise, and a
// trigger after a resolve opens a new alert. A trigger without dedup_key
// gets a made-up one, returned in the answer.
//
// Every request is recorded (Events), with its answer's status. Faults can
// be injected for the next calls (FailNext): an HTTP status with a body and
// Retry-After (429, 500...), or a hang until the client gives up, and with
// Apply the event takes effect although the client sees the fault, as when
// an answer is lost.
//
// A Fake is safe for concurrent use and never touches the network beyond
// its own loopback listener.
package pagerdutyfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/internal/fakefault"
)

// Path is where the fake serves the Events API.
const Path = "/v2/enqueue"

// RoutingKey is a well-formed routing key for tests (32 characters).
const RoutingKey = "R0UT1NGKEY0000000000000000000000"

// Epoch is the default time of a Fake's clock.
var Epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// PagerDuty's limits, as the fake enforces them.
const (
	routingKeyLength = 32
	maxSummary       = 1024
	maxDedupKey      = 255
	maxEventSize     = 512 << 10
)

// State is an alert's state.
type State string

// The states of an alert; StateNone is that of a dedup key never
// triggered.
const (
	StateNone         State = ""
	StateTriggered    State = "triggered"
	StateAcknowledged State = "acknowledged"
	StateResolved     State = "resolved"
)

// Alert is an alert the fake holds.
type Alert struct {
	DedupKey   string
	RoutingKey string
	State      State
	Summary    string
	Source     string
	Severity   string
	// Triggers counts the trigger events applied to it (1 for the one that
	// opened it).
	Triggers  int
	Created   time.Time
	Updated   time.Time
	FirstBody []byte // the trigger that opened it
}

// Event is a request the fake received.
type Event struct {
	// Action, RoutingKey and DedupKey are as sent (DedupKey as made up by
	// the fake for a trigger without one, when accepted).
	Action     string
	RoutingKey string
	DedupKey   string
	// Payload is the decoded payload object, nil when none was sent.
	Payload map[string]any
	// Body is the raw request body.
	Body   []byte
	Header http.Header
	// Status is the HTTP status answered: 202, 400, or a fault's.
	Status int
	// Errors are the validation errors of a 400.
	Errors []string
	// Faulted is set when an injected fault answered.
	Faulted bool
	// Dropped is set for an accepted acknowledge or resolve that matched
	// no open alert of its routing key, and so changed nothing.
	Dropped bool
	At      time.Time
	// Received is when it arrived by the wall clock, whatever the fake's
	// clock, for checking how long a client waited between calls.
	Received time.Time

	applied bool
}

// Accepted reports whether PagerDuty took the event in (it answered 202,
// or a fault with Apply hid that it did).
func (e Event) Accepted() bool { return e.applied }

// Fault is an answer the fake gives instead of its own (shared with the
// other fakes, package fakefault).
type Fault = fakefault.Fault

// A Fake is a fake PagerDuty Events API v2 on a local httptest.Server.
type Fake struct {
	srv  *httptest.Server
	now  func() time.Time
	done chan struct{}

	mu     sync.Mutex
	events []Event
	alerts map[string][]*Alert // by dedup key, oldest first
	faults fakefault.Queue
	seq    int
	closed bool
}

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the clock that dates events and alerts; the default is
// fixed at Epoch.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// New starts a Fake. Close it when done.
func New(opts ...Option) *Fake {
	f := &Fake{
		now:    func() time.Time { return Epoch },
		done:   make(chan struct{}),
		alerts: map[string][]*Alert{},
	}
	for _, o := range opts {
		o(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close releases hung calls and shuts the server down.
func (f *Fake) Close() {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
	f.mu.Unlock()
	f.srv.Close()
}

// URL is the events endpoint: "http://127.0.0.1:port/v2/enqueue".
func (f *Fake) URL() string { return f.srv.URL + Path }

// FailNext answers the next n calls with fault. Faults queue in the order
// they were added.
func (f *Fake) FailNext(n int, fault Fault) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults.Push(n, fault)
}

// Events returns every request received so far, in order.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// Accepted returns the accepted events for dedupKey, in order: what
// PagerDuty took in, whatever the client saw.
func (f *Fake) Accepted(dedupKey string) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, e := range f.events {
		if e.applied && e.DedupKey == dedupKey {
			out = append(out, e)
		}
	}
	return out
}

// Actions returns the actions of the accepted events for dedupKey that
// changed something (not dropped), in order: for example
// ["trigger", "acknowledge", "resolve"].
func (f *Fake) Actions(dedupKey string) []string {
	var out []string
	for _, e := range f.Accepted(dedupKey) {
		if !e.Dropped {
			out = append(out, e.Action)
		}
	}
	return out
}

// State is the state of the latest alert with dedupKey, StateNone if there
// is none.
func (f *Fake) State(dedupKey string) State {
	if a, ok := f.Alert(dedupKey); ok {
		return a.State
	}
	return StateNone
}

// Alert returns a copy of the latest alert with dedupKey.
func (f *Fake) Alert(dedupKey string) (Alert, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	as := f.alerts[dedupKey]
	if len(as) == 0 {
		return Alert{}, false
	}
	return *as[len(as)-1], true
}

// Alerts returns copies of every alert with dedupKey, oldest first: more
// than one when a trigger came after a resolve.
func (f *Fake) Alerts(dedupKey string) []Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Alert
	for _, a := range f.alerts[dedupKey] {
		out = append(out, *a)
	}
	return out
}

// The event actions.
const (
	actionTrigger     = "trigger"
	actionAcknowledge = "acknowledge"
	actionResolve     = "resolve"
)

// request is an event as PagerDuty reads it.
type request struct {
	RoutingKey  *string         `json:"routing_key"`
	EventAction *string         `json:"event_action"`
	DedupKey    *string         `json:"dedup_key"`
	Payload     json.RawMessage `json:"payload"`
	Links       json.RawMessage `json:"links"`
	Images      json.RawMessage `json:"images"`
}

type payload struct {
	Summary   *string `json:"summary"`
	Source    *string `json:"source"`
	Severity  *string `json:"severity"`
	Timestamp *string `json:"timestamp"`
}

type answer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEventSize+1))
	if err != nil {
		http.Error(w, "reading the request", http.StatusBadRequest)
		return
	}
	ev := Event{Body: body, Header: r.Header.Clone(), Received: time.Now()}
	if r.URL.Path != Path {
		f.record(ev, http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, answer{Status: "not found", Message: "Not Found"})
		return
	}
	if r.Method != http.MethodPost {
		f.record(ev, http.StatusMethodNotAllowed)
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, answer{Status: "method not allowed", Message: "Only POST is allowed"})
		return
	}

	f.mu.Lock()
	ft, faulted := f.faults.Next()
	if faulted && !ft.Apply {
		// The event never reached PagerDuty: record it, change nothing.
		ev = f.decode(ev)
		ev.Faulted, ev.Status, ev.At = true, ft.Status, f.now()
		f.events = append(f.events, ev)
		f.mu.Unlock()
		f.answerFault(w, r, ft)
		return
	}
	status, ans := f.apply(&ev)
	if faulted {
		ev.Faulted, ev.Status = true, ft.Status
	}
	f.events = append(f.events, ev)
	f.mu.Unlock()
	if faulted {
		f.answerFault(w, r, ft)
		return
	}
	writeJSON(w, status, ans)
}

// record appends an event that was not an Events API call. Locks mu.
func (f *Fake) record(ev Event, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev.Status, ev.At = status, f.now()
	f.events = append(f.events, ev)
}

func (f *Fake) answerFault(w http.ResponseWriter, r *http.Request, ft Fault) {
	fakefault.Serve(w, r, ft, f.done, func(w http.ResponseWriter, status int) {
		if status == http.StatusTooManyRequests {
			writeJSON(w, status, answer{Status: "throttle event", Message: "Requests for this service are arriving too quickly. Please retry later."})
			return
		}
		writeJSON(w, status, answer{Status: "error", Message: http.StatusText(status)})
	})
}

// decode reads what it can of ev's body into ev. Caller holds mu.
func (f *Fake) decode(ev Event) Event {
	var req request
	if json.Unmarshal(ev.Body, &req) == nil {
		ev.RoutingKey, ev.Action, ev.DedupKey = deref(req.RoutingKey), deref(req.EventAction), deref(req.DedupKey)
		_ = json.Unmarshal(req.Payload, &ev.Payload)
	}
	return ev
}

// apply validates and applies ev, and returns the answer. Caller holds mu.
func (f *Fake) apply(ev *Event) (int, answer) {
	ev.At = f.now()
	if len(ev.Body) > maxEventSize {
		ev.Status, ev.Errors = http.StatusBadRequest, []string{"Event object is larger than 512 KB"}
		return ev.Status, answer{Status: "invalid event", Message: "Event object is invalid", Errors: ev.Errors}
	}
	var req request
	if err := json.Unmarshal(ev.Body, &req); err != nil || !bytes.HasPrefix(bytes.TrimSpace(ev.Body), []byte("{")) {
		ev.Status, ev.Errors = http.StatusBadRequest, []string{"JSON parse error"}
		return ev.Status, answer{Status: "Unrecognized object", Message: "Event object format is unrecognized", Errors: ev.Errors}
	}
	*ev = f.decode(*ev)
	if errs := validate(req, ev); len(errs) > 0 {
		ev.Status, ev.Errors = http.StatusBadRequest, errs
		return ev.Status, answer{Status: "invalid event", Message: "Event object is invalid", Errors: errs}
	}
	ev.Status, ev.applied = http.StatusAccepted, true
	switch ev.Action {
	case actionTrigger:
		if ev.DedupKey == "" {
			f.seq++
			ev.DedupKey = fmt.Sprintf("%032x", f.seq)
		}
		f.trigger(ev)
	case actionAcknowledge, actionResolve:
		ev.Dropped = !f.update(ev)
	}
	return ev.Status, answer{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey}
}

// validate lists what PagerDuty would refuse in req.
func validate(req request, ev *Event) []string {
	var errs []string
	switch key := deref(req.RoutingKey); {
	case strings.TrimSpace(key) == "":
		errs = append(errs, "'routing_key' is missing or blank")
	case len(key) != routingKeyLength:
		errs = append(errs, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	action := deref(req.EventAction)
	switch action {
	case actionTrigger, actionAcknowledge, actionResolve:
	case "":
		errs = append(errs, "'event_action' is missing or blank")
	default:
		errs = append(errs, "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
	}
	dedup := deref(req.DedupKey)
	if (action == actionAcknowledge || action == actionResolve) && strings.TrimSpace(dedup) == "" {
		errs = append(errs, "'dedup_key' is missing or blank (required for acknowledge and resolve events)")
	}
	if utf8.RuneCountInString(dedup) > maxDedupKey {
		errs = append(errs, "Length of 'dedup_key' is incorrect (should be at most 255 characters)")
	}
	if action != actionTrigger {
		return errs
	}
	var p payload
	if len(req.Payload) == 0 || string(req.Payload) == "null" {
		return append(errs, "'payload' is missing (required for trigger events)")
	}
	if err := json.Unmarshal(req.Payload, &p); err != nil {
		return append(errs, "'payload' is not an object")
	}
	switch s := deref(p.Summary); {
	case strings.TrimSpace(s) == "":
		errs = append(errs, "'payload.summary' is missing or blank")
	case utf8.RuneCountInString(s) > maxSummary:
		errs = append(errs, "Length of 'payload.summary' is incorrect (should be at most 1024 characters)")
	}
	if strings.TrimSpace(deref(p.Source)) == "" {
		errs = append(errs, "'payload.source' is missing or blank")
	}
	switch deref(p.Severity) {
	case "critical", "error", "warning", "info":
	default:
		errs = append(errs, "'payload.severity' is invalid (must be one of: critical, error, warning, info)")
	}
	if ts := deref(p.Timestamp); ts != "" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			if _, err := time.Parse("2006-01-02T15:04:05.000-0700", ts); err != nil {
				errs = append(errs, "'payload.timestamp' is not an ISO 8601 timestamp")
			}
		}
	}
	if len(req.Links) > 0 && string(req.Links) != "null" {
		var links []struct {
			Href string `json:"href"`
		}
		if err := json.Unmarshal(req.Links, &links); err != nil {
			errs = append(errs, "'links' is not an array of objects")
		}
		for _, l := range links {
			if l.Href == "" {
				errs = append(errs, "'links.href' is missing or blank")
				break
			}
		}
	}
	return errs
}

// trigger opens an alert, or adds to the open one. Caller holds mu.
func (f *Fake) trigger(ev *Event) {
	now := ev.At
	if a := f.open(ev.DedupKey); a != nil {
		a.Triggers++
		a.Updated = now
		return
	}
	str := func(k string) string { s, _ := ev.Payload[k].(string); return s }
	f.alerts[ev.DedupKey] = append(f.alerts[ev.DedupKey], &Alert{
		DedupKey: ev.DedupKey, RoutingKey: ev.RoutingKey, State: StateTriggered,
		Summary: str("summary"), Source: str("source"), Severity: str("severity"),
		Triggers: 1, Created: now, Updated: now, FirstBody: ev.Body,
	})
}

// update applies an acknowledge or resolve to the open alert of its dedup
// key and routing key, and reports whether there was one. Caller holds mu.
func (f *Fake) update(ev *Event) bool {
	a := f.open(ev.DedupKey)
	if a == nil || a.RoutingKey != ev.RoutingKey {
		return false
	}
	if ev.Action == actionResolve {
		a.State = StateResolved
	} else {
		a.State = StateAcknowledged
	}
	a.Updated = ev.At
	return true
}

// open returns the open alert with dedupKey, or nil. Caller holds mu.
func (f *Fake) open(dedupKey string) *Alert {
	as := f.alerts[dedupKey]
	if len(as) == 0 || as[len(as)-1].State == StateResolved {
		return nil
	}
	return as[len(as)-1]
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
