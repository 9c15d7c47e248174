package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// fakeDeploys knows checkout and search; checkout is frozen by INC-7 and
// by hand.
type fakeDeploys struct{}

var _ Deploys = fakeDeploys{}

func (fakeDeploys) Frozen(ctx context.Context, service string) (deploys.FreezeStatus, error) {
	switch service {
	case "checkout":
		return deploys.FreezeStatus{Service: service, Frozen: true,
			Incidents: []*incidents.Incident{{ID: 7, Severity: incidents.Sev1, Status: incidents.StatusInvestigating, Title: "Checkout <!channel> down"}},
			Manual:    &deploys.ManualFreeze{Service: service, By: "slack:U01ALICE", Reason: "black friday", At: t0}}, nil
	case "search":
		return deploys.FreezeStatus{Service: service}, nil
	}
	return deploys.FreezeStatus{}, &incidents.ValidationError{Field: "service", Msg: `"` + service + `" is not a configured service`}
}

func (fakeDeploys) Known(ctx context.Context, service string, limit int) (deploys.Recent, error) {
	if service != "checkout" {
		return deploys.Recent{}, &incidents.ValidationError{Field: "service", Msg: "unknown"}
	}
	v2 := deploys.Deploy{Source: deploys.SourceGitHubDeployments, ExternalID: "2", Ref: "v2", SHA: "abc", Status: deploys.StatusSuccess,
		StartedAt: t0, FinishedAt: t0.Add(time.Minute)}
	v1 := v2
	v1.ExternalID, v1.Ref, v1.Status = "1", "v1", deploys.StatusInactive
	ds := []deploys.Deploy{v2, v1}[:min(limit, 2)]
	return deploys.Recent{Service: service, Deploys: ds, Live: &v2, LastGood: &v1, ReadAt: t0.Add(time.Hour),
		Errors: []deploys.SourceError{{Source: deploys.SourceGitHubActions, Err: errors.New("502")}}}, nil
}

func TestFreezeAPI(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.Deploys = fakeDeploys{} })

	rec := env.do(t, "GET", "/api/freeze?service=checkout", testToken, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("checkout: %d %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	inc := got["incidents"].([]any)[0].(map[string]any)
	manual := got["manual"].(map[string]any)
	if got["frozen"] != true || inc["id"] != "INC-7" || inc["severity"] != "sev1" || inc["title"] != "Checkout <!channel> down" ||
		inc["url"] != "https://warroom.example.com/api/incidents/7" || manual["reason"] != "black friday" ||
		manual["at"] != "2025-03-01T14:00:00Z" {
		t.Errorf("checkout: %s", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a freeze answer may be cached: %v", rec.Header())
	}

	rec = env.do(t, "GET", "/api/freeze?service=search", testToken, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"service":"search","frozen":false,"incidents":[],"manual":null}` {
		t.Errorf("search: %d %s", rec.Code, rec.Body)
	}

	for target, want := range map[string]string{
		"/api/freeze":              "say which service",
		"/api/freeze?service=":     "say which service",
		"/api/freeze?service=nope": `nope\" is not a configured service`,
	} {
		rec := env.do(t, "GET", target, testToken, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s", target, rec.Code, rec.Body)
		}
	}
	if rec := env.do(t, "GET", "/api/freeze?service=checkout", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", rec.Code)
	}
	if rec := env.do(t, "GET", "/api/freeze?service=checkout", "wrong", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d", rec.Code)
	}

	off := newTestEnv(t, nil)
	if rec := off.do(t, "GET", "/api/freeze?service=checkout", testToken, nil); rec.Code != http.StatusNotFound {
		t.Errorf("without deploys: %d", rec.Code)
	}
}

func TestDeploysAPI(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.Deploys = fakeDeploys{} })
	rec := env.do(t, "GET", "/api/services/checkout/deploys?limit=1", testToken, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var got deployListJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Deploys) != 1 || got.Deploys[0].Ref != "v2" || got.Live.Ref != "v2" || got.LastGood.Ref != "v1" ||
		*got.Deploys[0].FinishedAt != "2025-03-01T14:01:00Z" || len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "github_actions") ||
		got.ReadAt == nil || *got.ReadAt != "2025-03-01T15:00:00Z" {
		t.Errorf("%s", rec.Body)
	}
	for _, target := range []string{"/api/services/checkout/deploys?limit=0", "/api/services/checkout/deploys?limit=x", "/api/services/nope/deploys"} {
		if rec := env.do(t, "GET", target, testToken, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", target, rec.Code, rec.Body)
		}
	}
}
