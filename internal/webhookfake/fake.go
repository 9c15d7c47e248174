// Package webhookfake is a receiver of Warroom's signed webhooks (page
// webhooks, rollback requests), for tests, the demo and end-to-end runs. It
// behaves as a careful receiver should:
//
//   - it answers 405 to anything but POST, and 415 to a body that is not
//     application/json;
//   - it verifies X-Warroom-Signature with its secret (webhook.Verify), and
//     answers 401 to a missing or wrong signature: the delivery is recorded
//     as refused;
//   - it answers 400 when X-Warroom-Event or X-Warroom-Delivery is missing,
//     or the body is not a JSON object;
//   - it deduplicates on X-Warroom-Delivery: a delivery ID it has already
//     processed is answered 200 again and counted as a duplicate, not
//     processed twice.
//
// Every request is recorded (Requests), and processed deliveries can be
// read back (Deliveries). Faults can be injected for the next calls
// (FailNext): a status with Retry-After and a body, or a hang until the
// sender gives up; with Apply the delivery is processed although the
// sender sees the fault, as when an answer is lost.
//
// A Fake is safe for concurrent use and never touches the network beyond
// its own loopback listener.
package webhookfake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/fakefault"
)

// Path is where the fake receives deliveries; any other path is 404.
const Path = "/hook"

// Secret is the secret a Fake verifies with unless WithSecret says
// otherwise.
const Secret = "webhookfake-secret"

// Epoch is the default time of a Fake's clock.
var Epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// maxBody is the largest body the fake reads.
const maxBody = 1 << 20

// Request is a request the fake received.
type Request struct {
	Event      string // X-Warroom-Event
	DeliveryID string // X-Warroom-Delivery
	Header     http.Header
	Body       []byte
	// Status is what the sender was answered.
	Status int
	// Refused is set when the signature was missing or wrong (401).
	Refused bool
	// Duplicate is set when the delivery ID had already been processed.
	Duplicate bool
	// Faulted is set when an injected fault answered.
	Faulted bool
	// Processed is set when this request was the delivery's processing
	// (its first accepted one): with Apply, even though a fault answered.
	Processed bool
	At        time.Time
}

// Delivery is a delivery the receiver processed, once per delivery ID.
type Delivery struct {
	Event      string
	DeliveryID string
	Body       []byte
	// JSON is the decoded body.
	JSON map[string]any
	// Duplicates counts the later requests with the same delivery ID.
	Duplicates int
	At         time.Time
}

// Decode unmarshals the delivery's body into v, such as a
// *webhook.PagePayload.
func (d Delivery) Decode(v any) error { return json.Unmarshal(d.Body, v) }

// Fault is an answer the fake gives instead of its own (shared with the
// other fakes, package fakefault).
type Fault = fakefault.Fault

// A Fake is a webhook receiver on a local httptest.Server.
type Fake struct {
	srv    *httptest.Server
	secret []byte
	now    func() time.Time
	done   chan struct{}

	mu         sync.Mutex
	requests   []Request
	deliveries []*Delivery
	byID       map[string]*Delivery
	faults     fakefault.Queue
	closed     bool
}

// Option configures a Fake.
type Option func(*Fake)

// WithSecret sets the secret the fake verifies signatures with.
func WithSecret(secret []byte) Option { return func(f *Fake) { f.secret = secret } }

// WithClock sets the clock that dates requests; the default is fixed at
// Epoch.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// New starts a Fake. Close it when done.
func New(opts ...Option) *Fake {
	f := &Fake{
		secret: []byte(Secret),
		now:    func() time.Time { return Epoch },
		done:   make(chan struct{}),
		byID:   map[string]*Delivery{},
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

// URL is where to deliver: "http://127.0.0.1:port/hook".
func (f *Fake) URL() string { return f.srv.URL + Path }

// Secret is the secret the fake verifies with.
func (f *Fake) Secret() []byte { return slices.Clone(f.secret) }

// FailNext answers the next n calls with fault, before checking anything.
// Faults queue in the order they were added.
func (f *Fake) FailNext(n int, fault Fault) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults.Push(n, fault)
}

// Requests returns every request received, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Refused returns the requests refused for their signature.
func (f *Fake) Refused() []Request {
	var out []Request
	for _, r := range f.Requests() {
		if r.Refused {
			out = append(out, r)
		}
	}
	return out
}

// Deliveries returns the processed deliveries, one per delivery ID, in the
// order they were first processed.
func (f *Fake) Deliveries() []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Delivery, 0, len(f.deliveries))
	for _, d := range f.deliveries {
		out = append(out, *d)
	}
	return out
}

// Delivery returns the processed delivery with id.
func (f *Fake) Delivery(id string) (Delivery, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.byID[id]; ok {
		return *d, true
	}
	return Delivery{}, false
}

// Events returns the events of the processed deliveries, in order.
func (f *Fake) Events() []string {
	var out []string
	for _, d := range f.Deliveries() {
		out = append(out, d.Event)
	}
	return out
}

// Duplicates counts the requests that repeated a processed delivery ID.
func (f *Fake) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.deliveries {
		n += d.Duplicates
	}
	return n
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "reading the request", http.StatusBadRequest)
		return
	}
	req := Request{
		Event: r.Header.Get(webhook.EventHeader), DeliveryID: r.Header.Get(webhook.DeliveryHeader),
		Header: r.Header.Clone(), Body: body,
	}

	f.mu.Lock()
	req.At = f.now()
	ft, faulted := f.faults.Next()
	var status int
	var msg string
	if !faulted || ft.Apply {
		status, msg = f.receive(r, &req)
	}
	if faulted {
		req.Faulted, req.Status = true, ft.Status
	} else {
		req.Status = status
	}
	f.requests = append(f.requests, req)
	f.mu.Unlock()

	if faulted {
		f.answerFault(w, r, ft)
		return
	}
	writeJSON(w, status, msg)
}

// receive checks and processes a delivery as a receiver would, and returns
// the status and message to answer. Caller holds mu.
func (f *Fake) receive(r *http.Request, req *Request) (int, string) {
	switch {
	case r.URL.Path != Path:
		return http.StatusNotFound, "not found"
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, "only POST"
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, "Content-Type must be application/json"
	}
	if !webhook.Verify(f.secret, req.Body, r.Header.Get(webhook.SignatureHeader)) {
		req.Refused = true
		return http.StatusUnauthorized, "bad signature"
	}
	if req.Event == "" || req.DeliveryID == "" {
		return http.StatusBadRequest, "missing " + webhook.EventHeader + " or " + webhook.DeliveryHeader
	}
	if d, ok := f.byID[req.DeliveryID]; ok {
		d.Duplicates++
		req.Duplicate = true
		return http.StatusOK, "duplicate delivery ignored"
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return http.StatusBadRequest, "the body is not a JSON object"
	}
	d := &Delivery{Event: req.Event, DeliveryID: req.DeliveryID, Body: req.Body, JSON: obj, At: req.At}
	f.deliveries = append(f.deliveries, d)
	f.byID[d.DeliveryID] = d
	req.Processed = true
	return http.StatusOK, "ok"
}

func (f *Fake) answerFault(w http.ResponseWriter, r *http.Request, ft Fault) {
	fakefault.Serve(w, r, ft, f.done, func(w http.ResponseWriter, status int) {
		writeJSON(w, status, http.StatusText(status))
	})
}

func writeJSON(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	key := "error"
	if status < 300 {
		key = "status"
	}
	json.NewEncoder(w).Encode(map[string]string{key: msg})
}
