package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
)

// fakePostmortems writes a fixed draft for the incidents it knows.
type fakePostmortems struct {
	drafts map[incidents.ID]string
	err    error
	asked  []incidents.ID
}

var _ Postmortems = (*fakePostmortems)(nil)

func (f *fakePostmortems) Draft(ctx context.Context, id incidents.ID) ([]byte, error) {
	f.asked = append(f.asked, id)
	if f.err != nil {
		return nil, f.err
	}
	md, ok := f.drafts[id]
	if !ok {
		return nil, &incidents.NotFoundError{ID: id}
	}
	return []byte(md), nil
}

// hostileDraft is Markdown that a careless template could have let
// through; the HTML must show none of it as markup.
const hostileDraft = "# INC-42: Checkout\n\n## Summary\n\n<script>alert(1)</script>\n\n" +
	"[click](javascript:alert(1)) and <img src=x onerror=alert(1)>\n\n- [ ] add a canary\n"

func TestPostmortemDraft(t *testing.T) {
	pm := &fakePostmortems{drafts: map[incidents.ID]string{42: hostileDraft}}
	env := newTestEnv(t, func(o *Options) { o.Postmortems = pm })

	rec := env.do(t, "GET", "/api/incidents/INC-42/postmortem", testToken, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != hostileDraft {
		t.Fatalf("markdown: %d %q", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("markdown Content-Type = %q", ct)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("markdown without nosniff: %v", rec.Header())
	}

	rec = env.do(t, "GET", "/api/incidents/42/postmortem?format=html", testToken, nil)
	page := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("html: %d %s", rec.Code, page)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("html Content-Type = %q", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); csp != "default-src 'none'" {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, want := range []string{"<title>INC-42 postmortem draft</title>", "<h1>INC-42: Checkout</h1>", "<h2>Summary</h2>", `type="checkbox"`} {
		if !strings.Contains(page, want) {
			t.Errorf("html lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"<script", "<img", `href="javascript`} {
		if strings.Contains(page, bad) {
			t.Errorf("html carries %q:\n%s", bad, page)
		}
	}
	if !slices.Equal(pm.asked, []incidents.ID{42, 42}) {
		t.Errorf("drafts asked for %v", pm.asked)
	}
}

func TestPostmortemDraftErrors(t *testing.T) {
	pm := &fakePostmortems{drafts: map[incidents.ID]string{42: hostileDraft}}
	env := newTestEnv(t, func(o *Options) { o.Postmortems = pm })

	wantError(t, env.do(t, "GET", "/api/incidents/42/postmortem", "", nil), http.StatusUnauthorized)
	wantError(t, env.do(t, "GET", "/api/incidents/7/postmortem", testToken, nil), http.StatusNotFound)
	wantError(t, env.do(t, "GET", "/api/incidents/nope/postmortem", testToken, nil), http.StatusBadRequest)
	if msg := wantError(t, env.do(t, "GET", "/api/incidents/42/postmortem?format=pdf", testToken, nil), http.StatusBadRequest); !strings.Contains(msg, "html") {
		t.Errorf("unknown format: %q", msg)
	}
	pm.err = errors.New("database is locked: /var/lib/warroom.db")
	if msg := wantError(t, env.do(t, "GET", "/api/incidents/42/postmortem", testToken, nil), http.StatusInternalServerError); strings.Contains(msg, "warroom.db") {
		t.Errorf("a store error reached the caller: %q", msg)
	}
	if len(pm.asked) != 2 { // 7, then 42 with the error; the others were refused before
		t.Errorf("drafts asked for %v", pm.asked)
	}

	off := newTestEnv(t, nil)
	if msg := wantError(t, off.do(t, "GET", "/api/incidents/42/postmortem", testToken, nil), http.StatusNotFound); !strings.Contains(msg, "postmortem") {
		t.Errorf("without Postmortems: %q", msg)
	}
}
