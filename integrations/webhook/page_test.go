package webhook

import (
	"reflect"
	"testing"
	"time"
)

func TestPagePayloadJSON(t *testing.T) {
	acked := time.Date(2026, 11, 21, 11, 4, 0, 0, time.FixedZone("CET", 3600))
	p := PagePayload{
		Event: EventPageAcknowledged,
		Incident: PageIncident{ID: 42, Title: "Checkout <!channel> is down", Severity: "sev1", Service: "checkout",
			Status: "investigating", URL: "https://acme.slack.com/archives/C042", Channel: "#inc-42-checkout"},
		Page: PageInfo{ID: 7, State: "acknowledged", Policy: "payments", Step: 2, Round: 1,
			Targets: []string{"schedule:payments-primary", "person:bob"}, People: []string{"alice", "bob"},
			DedupKey: "warroom-inc-42", AcknowledgedBy: "bob", AcknowledgedAt: &acked},
		At: acked,
	}
	got, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"page.acknowledged",` +
		`"incident":{"id":42,"title":"Checkout \u003c!channel\u003e is down","severity":"sev1","service":"checkout","status":"investigating",` +
		`"url":"https://acme.slack.com/archives/C042","channel":"#inc-42-checkout"},` +
		`"page":{"id":7,"state":"acknowledged","policy":"payments","step":2,"round":1,` +
		`"targets":["schedule:payments-primary","person:bob"],"people":["alice","bob"],"dedup_key":"warroom-inc-42",` +
		`"acknowledged_by":"bob","acknowledged_at":"2026-11-21T10:04:00Z"},` +
		`"at":"2026-11-21T10:04:00Z"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if acked.Location().String() != "CET" {
		t.Fatal("Marshal changed the caller's time")
	}
	back, err := ParsePagePayload(got)
	if err != nil {
		t.Fatal(err)
	}
	p.At, acked = p.At.UTC(), acked.UTC()
	p.Page.AcknowledgedAt = &acked
	if !reflect.DeepEqual(back, p) {
		t.Fatalf("round trip\n %+v\nwant\n %+v", back, p)
	}
}

func TestAPageByHandHasEmptyTargetsNotNull(t *testing.T) {
	got, err := PagePayload{Event: EventPageTriggered, Page: PageInfo{ID: 1, State: "triggered", Step: 1, Round: 1}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"page.triggered","incident":{"id":0,"title":"","severity":"","status":""},` +
		`"page":{"id":1,"state":"triggered","step":1,"round":1,"targets":[]},"at":"0001-01-01T00:00:00Z"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func FuzzParsePagePayload(f *testing.F) {
	f.Add([]byte(`{"event":"page.triggered","incident":{"id":42},"page":{"id":7,"targets":["person:bob"]},"at":"2026-11-21T10:00:00Z"}`))
	f.Add([]byte(`{"page":{"acknowledged_at":null},"extra":[1,2]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePagePayload(body)
		if err != nil {
			return
		}
		// What parses marshals, and parses back to the same payload.
		out, err := p.Marshal()
		if err != nil {
			return // a time outside JSON's years, say
		}
		q, err := ParsePagePayload(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		again, err := q.Marshal()
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable:\n%s\n%s (%v)", out, again, err)
		}
	})
}
