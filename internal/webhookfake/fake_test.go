package webhookfake

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/integrations/webhook"
)

func send(t *testing.T, f *Fake, method, path string, h map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(f.URL(), Path)+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func headers(body, secret string) map[string]string {
	return map[string]string{
		"Content-Type":          "application/json; charset=utf-8",
		webhook.SignatureHeader: webhook.Sign([]byte(secret), []byte(body)),
		webhook.EventHeader:     "page.triggered",
		webhook.DeliveryHeader:  "d1",
	}
}

func TestReceivesLikeACarefulReceiver(t *testing.T) {
	f := New()
	defer f.Close()
	const body = `{"event":"page.triggered","page":{"id":7}}`
	without := func(k string) map[string]string { h := headers(body, Secret); delete(h, k); return h }
	with := func(k, v string) map[string]string { h := headers(body, Secret); h[k] = v; return h }
	for _, tc := range []struct {
		name, method, path string
		h                  map[string]string
		body               string
		status             int
		answer             string
	}{
		{"GET", "GET", Path, headers(body, Secret), body, 405, `{"error":"only POST"}`},
		{"other path", "POST", "/other", headers(body, Secret), body, 404, `{"error":"not found"}`},
		{"text body", "POST", Path, with("Content-Type", "text/plain"), body, 415, `{"error":"Content-Type must be application/json"}`},
		{"no signature", "POST", Path, without(webhook.SignatureHeader), body, 401, `{"error":"bad signature"}`},
		{"wrong secret", "POST", Path, headers(body, "other"), body, 401, `{"error":"bad signature"}`},
		{"other body", "POST", Path, headers(body, Secret), `{"event":"page.resolved"}`, 401, `{"error":"bad signature"}`},
		{"no event", "POST", Path, without(webhook.EventHeader), body, 400, `{"error":"missing X-Warroom-Event or X-Warroom-Delivery"}`},
		{"no delivery", "POST", Path, without(webhook.DeliveryHeader), body, 400, `{"error":"missing X-Warroom-Event or X-Warroom-Delivery"}`},
		{"not an object", "POST", Path, headers(`[1]`, Secret), `[1]`, 400, `{"error":"the body is not a JSON object"}`},
		{"two objects", "POST", Path, headers(`{}{}`, Secret), `{}{}`, 400, `{"error":"the body is not a JSON object"}`},
		{"good", "POST", Path, headers(body, Secret), body, 200, `{"status":"ok"}`},
		{"again", "POST", Path, headers(body, Secret), body, 200, `{"status":"duplicate delivery ignored"}`},
	} {
		status, answer := send(t, f, tc.method, tc.path, tc.h, tc.body)
		if status != tc.status || answer != tc.answer {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, answer, tc.status, tc.answer)
		}
	}
	if n := len(f.Refused()); n != 3 {
		t.Errorf("%d refused", n)
	}
	ds := f.Deliveries()
	if len(ds) != 1 || ds[0].Duplicates != 1 || f.Duplicates() != 1 || ds[0].Event != "page.triggered" ||
		ds[0].JSON["event"] != "page.triggered" || strings.Join(f.Events(), ",") != "page.triggered" {
		t.Fatalf("deliveries %+v", ds)
	}
	if d, ok := f.Delivery("d1"); !ok || string(d.Body) != body || !d.At.Equal(Epoch) {
		t.Fatalf("Delivery(d1) = %+v", d)
	}
}

func TestFaultsComeFirstAndApplyProcesses(t *testing.T) {
	f := New(WithSecret([]byte("s")))
	defer f.Close()
	const body = `{"a":1}`
	f.FailNext(1, Fault{Status: 503, RetryAfter: "9", Body: "busy"})
	f.FailNext(1, Fault{Status: 500, Apply: true})
	resp, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest("POST", f.URL(), strings.NewReader(body))
		for k, v := range headers(body, "s") {
			r.Header.Set(k, v)
		}
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "9" || string(b) != "busy" || len(f.Deliveries()) != 0 {
		t.Fatalf("503 fault: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	if status, _ := send(t, f, "POST", Path, headers(body, "s"), body); status != 500 || len(f.Deliveries()) != 1 {
		t.Fatalf("applied fault: %d, %d deliveries", status, len(f.Deliveries()))
	}
	if status, _ := send(t, f, "POST", Path, headers(body, "s"), body); status != 200 || f.Duplicates() != 1 {
		t.Fatalf("after the faults: %d", status)
	}
	rs := f.Requests()
	if len(rs) != 3 || !rs[0].Faulted || rs[0].Processed || !rs[1].Faulted || !rs[1].Processed || !rs[2].Duplicate {
		t.Fatalf("requests %+v", rs)
	}
}
