package fakefault

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestQueueTakesFaultsInOrderAndByCount(t *testing.T) {
	var q Queue
	q.Push(0, Fault{Status: 999}) // nothing
	q.Push(2, Fault{Status: 500})
	q.Push(1, Fault{Status: 429})
	var got []int
	for {
		ft, ok := q.Next()
		if !ok {
			break
		}
		got = append(got, ft.Status)
	}
	if len(got) != 3 || got[0] != 500 || got[1] != 500 || got[2] != 429 {
		t.Errorf("faults served %v, want [500 500 429]", got)
	}
}

func TestServe(t *testing.T) {
	fallback := func(w http.ResponseWriter, status int) {
		w.WriteHeader(status)
		io.WriteString(w, "own error")
	}
	rec := httptest.NewRecorder()
	Serve(rec, httptest.NewRequest("POST", "/", nil), Fault{Status: 429, RetryAfter: "30"}, nil, fallback)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "30" || rec.Body.String() != "own error" {
		t.Errorf("429: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	Serve(rec, httptest.NewRequest("POST", "/", nil), Fault{Status: 400, Body: `{"x":1}`}, nil, fallback)
	if rec.Code != 400 || rec.Body.String() != `{"x":1}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("body: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}

	// A hang holds until the client gives up, then drops the connection.
	arrived := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", "/", nil).WithContext(ctx)
	go func() { <-arrived; cancel() }()
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("a hang without a status ended with %v, want http.ErrAbortHandler", p)
		}
	}()
	Serve(httptest.NewRecorder(), req, Fault{Hang: true, Arrived: arrived}, nil, fallback)
	t.Error("a hang without a status answered")
}
