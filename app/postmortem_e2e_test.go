package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/postmortem"
)

// getRaw GETs path from the API with the sandbox's token and returns the
// answer as it is.
func getRaw(t *testing.T, sb *sandbox.Sandbox, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sb.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sandbox.APIToken)
	resp, err := sb.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// exampleWith is the example config with old replaced by new.
func exampleWith(t *testing.T, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(examples.Config, []byte(old)) {
		t.Fatalf("the example config has no %q", old)
	}
	return bytes.Replace(examples.Config, []byte(old), []byte(new), 1)
}

// TestPostmortemDraftFromTheAPI: an alert declares a sev1, a responder
// notes an action (and some HTML), it resolves; the API's draft has every
// section, the alert, the note as an action item, times in the team's
// zone, and no HTML from the note.
func TestPostmortemDraftFromTheAPI(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), Config: exampleWith(t, "  base_branch: main\n", "  base_branch: main\n  timezone: Europe/Berlin\n")})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	e := &alertsE2E{t: t, ctx: ctx, sb: sb}
	start := sb.Clock.Now().Add(-2 * time.Minute)
	e.post(amBody("g-pm", "firing", start, amAlert("fp-pm", "CheckoutDown", "critical", "Checkout is down")))
	e.run()
	incs := e.incidents()
	if len(incs) != 1 || incs[0].Severity != incidents.Sev1 {
		t.Fatalf("incidents %+v", incs)
	}
	id := incs[0].ID
	sb.Clock.Advance(3 * time.Minute)
	if _, err := sb.App.Incidents.AddNote(ctx, id, "TODO: page the payments team too <script>alert(1)</script>", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	sb.Clock.Advance(10 * time.Minute)
	if _, err := sb.App.Incidents.Resolve(ctx, id, "rolled back", "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	e.run()

	resp, md := getRaw(t, sb, "/api/incidents/1/postmortem")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/markdown; charset=utf-8" {
		t.Fatalf("markdown: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), md)
	}
	if missing := postmortem.MissingSections([]byte(md)); len(missing) != 0 {
		t.Errorf("the draft lacks %q:\n%s", missing, md)
	}
	for _, want := range []string{
		"# INC-1: Checkout is down", "| CheckoutDown | firing | sev1 |", "| UTC | Europe/Berlin | Who | What happened |",
		"- [ ] page the payments team too &lt;script&gt;alert(1)&lt;/script&gt;", "- **Resolution:** rolled back",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the draft lacks %q:\n%s", want, md)
		}
	}

	resp, page := getRaw(t, sb, "/api/incidents/INC-1/postmortem?format=html")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		resp.Header.Get("Content-Security-Policy") != "default-src 'none'" {
		t.Fatalf("html: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(page, "<h2>Action items</h2>") || strings.Contains(page, "<script") {
		t.Errorf("html:\n%s", page)
	}
	if resp, _ := getRaw(t, sb, "/api/incidents/2/postmortem"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown incident: %d", resp.StatusCode)
	}
}

// TestPostmortemTemplateFromConfig: postmortem.template replaces the
// built-in template, and a missing file stops Warroom from starting.
func TestPostmortemTemplateFromConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "ours.md.tmpl")
	if err := os.WriteFile(tmpl, []byte("# {{.Incident.ID}} {{md .Incident.Title}}: {{len .Timeline}} events\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: dir, Config: exampleWith(t, `template: ""`, "template: "+strconv.Quote(tmpl))})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.App.Incidents.Declare(ctx, incidents.DeclareInput{Title: "Search *slow*", Severity: incidents.Sev3, Actor: "cli:ops"}); err != nil {
		t.Fatal(err)
	}
	if _, md := getRaw(t, sb, "/api/incidents/1/postmortem"); md != "# INC-1 Search \\*slow\\*: 1 events\n" {
		t.Errorf("draft from the configured template: %q", md)
	}

	_, err = sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), Config: exampleWith(t, `template: ""`, "template: "+strconv.Quote(filepath.Join(dir, "missing.tmpl")))})
	if err == nil || !strings.Contains(err.Error(), "postmortem.template") {
		t.Errorf("a missing template: %v", err)
	}
}
