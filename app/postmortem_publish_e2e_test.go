package app_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/postmortem"
)

// pmRig is a sandbox with one sev1 checkout incident and its channel.
type pmRig struct {
	t   *testing.T
	ctx context.Context
	sb  *sandbox.Sandbox
	inc *incidents.Incident
}

func newPMRig(t *testing.T, config []byte) *pmRig {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), Config: config})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	r := &pmRig{t: t, ctx: ctx, sb: sb}
	inc, err := sb.App.Incidents.Declare(ctx, incidents.DeclareInput{Title: "Checkout returns 502", Severity: incidents.Sev1,
		Service: "checkout", Lead: "U01ALICE", Actor: "slack:U01ALICE"})
	if err != nil {
		t.Fatal(err)
	}
	r.run()
	r.inc = r.get(inc.ID)
	if r.inc.ChannelID == "" {
		t.Fatal("no channel")
	}
	return r
}

func (r *pmRig) run() {
	r.t.Helper()
	if _, err := r.sb.Run(r.ctx, 1000); err != nil {
		r.t.Fatal(err)
	}
}

func (r *pmRig) get(id incidents.ID) *incidents.Incident {
	r.t.Helper()
	inc, err := r.sb.App.Incidents.Get(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return inc
}

func (r *pmRig) note(who, text string) {
	r.t.Helper()
	r.sb.Clock.Advance(time.Minute)
	if _, err := r.sb.App.Incidents.AddNote(r.ctx, r.inc.ID, text, incidents.SlackActor(who)); err != nil {
		r.t.Fatal(err)
	}
}

// command runs /incident text in the incident's channel, then the queue.
func (r *pmRig) command(user, text string) string {
	r.t.Helper()
	r.sb.Clock.Advance(time.Minute)
	resp, err := r.sb.Driver.Command(r.ctx, user, r.inc.ChannelID, text)
	if err != nil || resp.Status != http.StatusOK {
		r.t.Fatalf("/incident %s: %v %+v", text, err, resp)
	}
	r.run()
	reply, _ := resp.JSON["text"].(string)
	return reply
}

// lastPost is the last message Warroom posted to the incident's channel.
func (r *pmRig) lastPost() string {
	msgs := r.sb.Slack.Messages(r.inc.ChannelID)
	if len(msgs) == 0 {
		return ""
	}
	return msgs[len(msgs)-1].Text
}

func (r *pmRig) published() []incidents.Event {
	r.t.Helper()
	evs, err := r.sb.App.Incidents.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return slices.DeleteFunc(evs, func(e incidents.Event) bool { return e.Kind != postmortem.EventPublished })
}

// TestPostmortemPullRequestFromSlack walks the whole life of a postmortem
// pull request: /incident postmortem opens it (with an issue for the
// action item, and the checker's findings in the channel), the resolve
// updates the same file and pull request, people's edits are not
// overwritten, a closed issue shows as a done action item in the API,
// and a lost GitHub answer repeats nothing.
func TestPostmortemPullRequestFromSlack(t *testing.T) {
	r := newPMRig(t, nil)
	gh := r.sb.GitHub
	r.note("U01BOB", "TODO: add a canary stage to the checkout deploy")
	r.note("U01ALICE", "Bob forgot to check the dashboard before the deploy")

	reply := r.command("U01ALICE", "postmortem")
	if !strings.Contains(reply, "Writing the postmortem draft of INC-1") {
		t.Errorf("reply %q", reply)
	}
	prs := gh.PullRequests("acme/postmortems")
	if len(prs) != 1 || !prs[0].Draft || prs[0].Head != "postmortem/inc-1-checkout-returns-502" || prs[0].Base != "main" ||
		prs[0].Title != "Postmortem: INC-1 Checkout returns 502" {
		t.Fatalf("pull requests %+v", prs)
	}
	path := "postmortems/2026-11-03-inc-1-checkout-returns-502.md"
	content, sha, ok := gh.File("acme/postmortems", prs[0].Head, path)
	if !ok {
		t.Fatalf("no %s on the branch", path)
	}
	issues := gh.Issues("acme/checkout")
	if len(issues) != 1 || issues[0].Title != "add a canary stage to the checkout deploy" ||
		!slices.Equal(issues[0].Labels, []string{"incident", "inc-1"}) {
		t.Fatalf("issues %+v", issues)
	}
	// The draft links the issue, and names people rather than Slack IDs.
	for _, want := range []string{"- [ ] add a canary stage to the checkout deploy ([issue](" + issues[0].URL + "))",
		"- **Lead:** alice"} {
		if !strings.Contains(string(content), want) {
			t.Errorf("the draft lacks %q:\n%s", want, content)
		}
	}
	post := r.lastPost()
	for _, want := range []string{"The postmortem draft of INC-1 is ready for review: <" + prs[0].URL + "|pull request #1>",
		"filed as 1 issue labelled `inc-1`", "suggests another wording in 1 place", "“Bob forgot”"} {
		if !strings.Contains(post, want) {
			t.Errorf("the channel's post lacks %q:\n%s", want, post)
		}
	}

	var api struct {
		Postmortem struct {
			URL         string
			PullRequest int `json:"pull_request"`
			State       string
		}
		ActionItems []struct {
			Text, State string
			IssueURL    string `json:"issue_url"`
		} `json:"action_items"`
	}
	if code, err := r.sb.API(r.ctx, "/api/incidents/INC-1", &api); err != nil || code != http.StatusOK {
		t.Fatalf("GET /api/incidents/INC-1: %d %v", code, err)
	}
	if api.Postmortem.URL != prs[0].URL || api.Postmortem.PullRequest != 1 || len(api.ActionItems) != 1 ||
		api.ActionItems[0].State != "open" || api.ActionItems[0].IssueURL != issues[0].URL {
		t.Errorf("the API shows %+v", api)
	}

	// The resolve (sev1 is in draft_on_resolve) updates the same file and
	// pull request. A lost answer to the file update is retried without a
	// second commit or pull request.
	gh.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: http.StatusBadGateway, Apply: true})
	r.sb.Clock.Advance(time.Minute)
	if _, err := r.sb.App.Incidents.Resolve(r.ctx, r.inc.ID, "rolled back", "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	r.run()
	content2, sha2, _ := gh.File("acme/postmortems", prs[0].Head, path)
	if sha2 == sha || !strings.Contains(string(content2), "- **Status:** resolved") {
		t.Errorf("the resolve did not update the draft:\n%s", content2)
	}
	if n := len(gh.PullRequests("acme/postmortems")); n != 1 {
		t.Errorf("%d pull requests after the resolve", n)
	}
	if n := len(gh.Issues("acme/checkout")); n != 1 {
		t.Errorf("%d issues after the resolve", n)
	}
	if pub := r.published(); len(pub) != 2 || pub[1].Data["created"] != false {
		t.Errorf("published events %+v", pub)
	}

	// People edit the file; asking again leaves it, and comments instead.
	edited := string(content2) + "\nWe also found a missing timeout.\n"
	gh.CommitFile("acme/postmortems", prs[0].Head, path, edited, "Add findings")
	gh.CloseIssue("acme/checkout", issues[0].Number)
	r.command("U01BOB", "postmortem")
	if got, _, _ := gh.File("acme/postmortems", prs[0].Head, path); string(got) != edited {
		t.Error("Warroom overwrote people's edits")
	}
	if cs := gh.Comments("acme/postmortems", 1); len(cs) != 1 || !strings.Contains(cs[0].Body, "# INC-1: Checkout returns 502") {
		t.Errorf("comments %+v", cs)
	}
	if post := r.lastPost(); !strings.Contains(post, "was edited by people, so Warroom left it as it is") {
		t.Errorf("the channel was told %q", post)
	}
	if code, err := r.sb.API(r.ctx, "/api/incidents/1", &api); err != nil || code != http.StatusOK ||
		len(api.ActionItems) != 1 || api.ActionItems[0].State != "done" {
		t.Errorf("after the issue closed, the API shows %+v (%d %v)", api.ActionItems, code, err)
	}

	// Asking twice in a row (a double click) opens nothing new and adds
	// no second comment for the same draft.
	r.sb.Clock.Advance(time.Minute)
	for range 2 {
		if _, err := r.sb.Driver.Command(r.ctx, "U01BOB", r.inc.ChannelID, "postmortem"); err != nil {
			t.Fatal(err)
		}
	}
	r.run()
	if n := len(gh.PullRequests("acme/postmortems")); n != 1 {
		t.Errorf("%d pull requests", n)
	}
	if n := len(gh.Comments("acme/postmortems", 1)); n != 1 {
		t.Errorf("%d comments after two more requests for the same draft, want the 1 from before", n)
	}
}

// TestPostmortemFailureIsTold: GitHub refusing the token is a failure no
// retry fixes; the channel and the timeline say so, once.
func TestPostmortemFailureIsTold(t *testing.T) {
	r := newPMRig(t, nil)
	r.sb.GitHub.FailNext(githubfake.RouteGetRef, githubfake.Fault{Status: http.StatusUnauthorized})
	r.command("U01ALICE", "postmortem")
	if post := r.lastPost(); !strings.Contains(post, "The postmortem draft of INC-1 could not be proposed") ||
		!strings.Contains(post, "acme/postmortems") {
		t.Errorf("the channel was told %q", post)
	}
	evs, err := r.sb.App.Incidents.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	failed := slices.DeleteFunc(evs, func(e incidents.Event) bool { return e.Kind != postmortem.EventFailed })
	if len(failed) != 1 {
		t.Errorf("%d failure events", len(failed))
	}
}

// TestPostmortemWithoutGitHub: without a token the draft is still written,
// and the channel gets its start and the findings.
func TestPostmortemWithoutGitHub(t *testing.T) {
	r := newPMRig(t, exampleWith(t, "  token: ${GITHUB_TOKEN}\n", "  token: \"\"\n"))
	r.command("U01ALICE", "postmortem")
	post := r.lastPost()
	for _, want := range []string{"No GitHub repository is set up for postmortems", "warroom postmortem 1", "# INC-1: Checkout returns 502",
		"found nothing to reword"} {
		if !strings.Contains(post, want) {
			t.Errorf("the channel's post lacks %q:\n%s", want, post)
		}
	}
	if n := len(r.sb.GitHub.Calls()); n != 0 {
		t.Errorf("%d GitHub calls without a token", n)
	}
}

// TestPostmortemSyncFollowsGitHub: the hourly sync sees the pull request
// merged and the action item's issue closed; the API, the timeline and
// the digest follow. A sync queued twice in the same hour runs once.
func TestPostmortemSyncFollowsGitHub(t *testing.T) {
	r := newPMRig(t, nil)
	gh := r.sb.GitHub
	r.note("U01BOB", "TODO: add a canary stage to the checkout deploy")
	r.command("U01ALICE", "postmortem")
	if len(gh.PullRequests("acme/postmortems")) != 1 || len(gh.Issues("acme/checkout")) != 1 {
		t.Fatal("no pull request or issue to follow")
	}
	sync := func() {
		t.Helper()
		r.sb.Clock.Advance(time.Hour)
		for range 2 {
			if _, err := postmortem.QueueSync(r.ctx, r.sb.App.Store, r.sb.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		r.run()
	}

	gh.ResetCalls()
	sync() // nothing changed yet
	if calls := gh.Calls(); len(calls) != 2 || calls[0].Route != githubfake.RouteGetPull || calls[1].Route != githubfake.RouteGetIssue {
		t.Errorf("one sync made %v", calls)
	}

	gh.MergePull("acme/postmortems", 1)
	gh.CloseIssue("acme/checkout", 1)
	sync()
	var api struct {
		Postmortem  struct{ State string }
		ActionItems []struct{ State string } `json:"action_items"`
	}
	if code, err := r.sb.API(r.ctx, "/api/incidents/1", &api); err != nil || code != http.StatusOK {
		t.Fatalf("API: %d %v", code, err)
	}
	if api.Postmortem.State != "merged" || len(api.ActionItems) != 1 || api.ActionItems[0].State != "done" {
		t.Errorf("after the merge the API shows %+v", api)
	}
	evs, err := r.sb.App.Incidents.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	merged := slices.DeleteFunc(evs, func(e incidents.Event) bool { return e.Kind != postmortem.EventMerged })
	if len(merged) != 1 || merged[0].Text != "The postmortem's pull request #1 was merged" {
		t.Errorf("merge events %+v", merged)
	}

	// Nothing is open any more: a later sync asks GitHub nothing.
	gh.ResetCalls()
	sync()
	if calls := gh.Calls(); len(calls) != 0 {
		t.Errorf("a sync with nothing open made %v", calls)
	}
}

// TestPostmortemLostAnswerOnAnOpenIncident: the draft of an open incident
// changes with the clock, so a retry after a lost answer writes another
// draft; Warroom still knows the file for its own and updates it.
func TestPostmortemLostAnswerOnAnOpenIncident(t *testing.T) {
	r := newPMRig(t, nil)
	gh := r.sb.GitHub
	gh.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: http.StatusBadGateway, Apply: true})
	r.command("U01ALICE", "postmortem") // the create lands, its answer is lost; the retry a bit later
	r.note("U01BOB", "the error rate is falling")
	gh.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: http.StatusBadGateway, Apply: true})
	r.command("U01ALICE", "postmortem") // the update lands, its answer is lost
	r.note("U01BOB", "back to baseline")
	r.command("U01ALICE", "postmortem")

	if n := len(gh.Comments("acme/postmortems", 1)); n != 0 {
		t.Errorf("%d comments: Warroom took its own writes for people's", n)
	}
	content, _, _ := gh.File("acme/postmortems", "postmortem/inc-1-checkout-returns-502", "postmortems/2026-11-03-inc-1-checkout-returns-502.md")
	if !strings.Contains(string(content), "back to baseline") {
		t.Errorf("the last draft is not on the branch:\n%s", content)
	}
	for _, ev := range r.published() {
		if ev.Data["edited"] == true {
			t.Errorf("an event says people edited the file: %s", ev.Text)
		}
	}
	if n := len(gh.PullRequests("acme/postmortems")); n != 1 {
		t.Errorf("%d pull requests", n)
	}
}

// TestPostmortemAfterTheMerge: once the pull request is merged, asking
// again opens no other; the channel is told where the postmortem is.
func TestPostmortemAfterTheMerge(t *testing.T) {
	r := newPMRig(t, nil)
	gh := r.sb.GitHub
	r.command("U01ALICE", "postmortem")
	gh.MergePull("acme/postmortems", 1)
	r.command("U01ALICE", "postmortem")
	if n := len(gh.PullRequests("acme/postmortems")); n != 1 {
		t.Errorf("%d pull requests after the merge", n)
	}
	if post := r.lastPost(); !strings.Contains(post, "The postmortem of INC-1 is already merged in <https://github.example.com/acme/postmortems/pull/1|pull request #1>") {
		t.Errorf("the channel was told %q", post)
	}
	var api struct{ Postmortem struct{ State string } }
	if _, err := r.sb.API(r.ctx, "/api/incidents/1", &api); err != nil || api.Postmortem.State != "merged" {
		t.Errorf("the API shows %+v (%v)", api, err)
	}
}

// TestPostmortemRateLimitIsNotAFailure: a job that used its attempts on
// outages and is then held back by rate limits tells nobody it failed,
// and publishes once GitHub lets it.
func TestPostmortemRateLimitIsNotAFailure(t *testing.T) {
	r := newPMRig(t, nil)
	gh := r.sb.GitHub
	reset := r.sb.Clock.Now().Add(2 * time.Hour)
	limited := githubfake.Fault{Status: http.StatusForbidden, Header: http.Header{
		"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)},
	}, Body: `{"message": "API rate limit exceeded"}`}
	for range 11 {
		gh.FailNext(githubfake.RouteListPulls, githubfake.Fault{Status: http.StatusBadGateway})
	}
	gh.FailNext(githubfake.RouteListPulls, limited)
	gh.FailNext(githubfake.RouteListPulls, limited)
	r.command("U01ALICE", "postmortem")
	evs, err := r.sb.App.Incidents.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if failed := slices.DeleteFunc(evs, func(e incidents.Event) bool { return e.Kind != postmortem.EventFailed }); len(failed) != 0 {
		t.Errorf("%d failure events: %s", len(failed), failed[0].Text)
	}
	if n := len(gh.PullRequests("acme/postmortems")); n != 1 {
		t.Errorf("%d pull requests", n)
	}
}
