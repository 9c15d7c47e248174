package github_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

const (
	draft1 = "# INC-42: Checkout errors\n\n## Summary\n\n_What happened, in two sentences._\n"
	draft2 = "# INC-42: Checkout errors\n\n## Summary\n\n_What happened, in two sentences._\n\n## Timeline\n\n| 10:02 | declared |\n"
	draft3 = draft2 + "| 10:40 | resolved |\n"
)

func TestPublishFirstRunOpensBranchFileAndDraftPullRequest(t *testing.T) {
	f, c := setup(t)
	mainSHA, _ := f.Ref(repo, "heads/main")

	res := publish(t, c, draft(draft1, ""))

	calls := f.Calls()
	checkCalls(t, calls,
		"GET "+pulls+" 200",
		"GET "+refBranch+" 404",
		"GET "+refMain+" 200",
		"POST "+refs+" 201",
		"GET "+contents+" 404",
		"PUT "+contents+" 201",
		"POST "+pulls+" 201",
	)
	if len(calls) != 7 {
		t.FailNow()
	}
	checkQuery(t, calls[0], map[string]string{"state": "all", "head": "acme:" + branch, "base": "main"})
	checkBody(t, calls[3], fmt.Sprintf(`{"ref": "refs/heads/%s", "sha": %q}`, branch, mainSHA))
	checkQuery(t, calls[4], map[string]string{"ref": branch})
	checkBody(t, calls[5], fmt.Sprintf(`{"message": "Postmortem draft for INC-42", "content": %q, "branch": %q}`,
		base64.StdEncoding.EncodeToString([]byte(draft1)), branch))
	checkBody(t, calls[6], fmt.Sprintf(`{"title": "Postmortem: INC-42 Checkout errors", "head": %q, "base": "main",
		"body": "Drafted by Warroom from INC-42's timeline.", "draft": true}`, branch))
	for _, call := range calls {
		if got := call.Header.Get("Authorization"); got != "Bearer "+f.Token() {
			t.Errorf("%s: Authorization %q", call, got)
		}
	}

	content, sha, ok := f.File(repo, branch, file)
	if !ok || string(content) != draft1 {
		t.Errorf("file on the branch: %q, %v", content, ok)
	}
	if _, _, ok := f.File(repo, "main", file); ok {
		t.Error("the draft was written on main")
	}
	want := []githubfake.PullRequest{{
		Number: 1, Title: "Postmortem: INC-42 Checkout errors", Body: "Drafted by Warroom from INC-42's timeline.",
		Head: branch, Base: "main", State: "open", Draft: true, URL: f.URL() + "/acme/postmortems/pull/1",
	}}
	if got := f.PullRequests(repo); !reflect.DeepEqual(got, want) {
		t.Errorf("pull requests: %+v\nwant %+v", got, want)
	}
	if res.PRNumber != 1 || res.PRURL != want[0].URL || res.FileSHA != sha || !res.Created || res.Edited ||
		!strings.HasPrefix(res.CommitURL, f.URL()+"/acme/postmortems/commit/") {
		t.Errorf("result %+v", res)
	}
}

func TestPublishAgainUpdatesTheFileWithItsSHA(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	f.ResetCalls()

	second := publish(t, c, draft(draft2, first.FileSHA))

	calls := f.Calls()
	checkCalls(t, calls,
		"GET "+pulls+" 200",
		"GET "+refBranch+" 200",
		"GET "+contents+" 200",
		"PUT "+contents+" 200",
	)
	if len(calls) == 4 {
		checkBody(t, calls[3], fmt.Sprintf(`{"message": "Postmortem draft for INC-42", "content": %q, "sha": %q, "branch": %q}`,
			base64.StdEncoding.EncodeToString([]byte(draft2)), first.FileSHA, branch))
	}
	content, sha, _ := f.File(repo, branch, file)
	if string(content) != draft2 {
		t.Errorf("file: %q", content)
	}
	if second.PRNumber != 1 || second.FileSHA != sha || second.Created || second.Edited || second.CommitURL == "" {
		t.Errorf("result %+v", second)
	}
	if n := len(f.PullRequests(repo)); n != 1 {
		t.Errorf("%d pull requests", n)
	}

	// The same draft again: nothing to write.
	f.ResetCalls()
	third := publish(t, c, draft(draft2, second.FileSHA))
	checkCalls(t, f.Calls(),
		"GET "+pulls+" 200",
		"GET "+refBranch+" 200",
		"GET "+contents+" 200",
	)
	if third != (github.PublishResult{PRNumber: 1, PRURL: second.PRURL, FileSHA: second.FileSHA, PRState: "open"}) {
		t.Errorf("result %+v", third)
	}
}

func TestPublishAfterALostUpdateAnswerIsNotAnEdit(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	f.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: 502, Apply: true})

	_, err := c.Publish(context.Background(), draft(draft2, first.FileSHA))
	if err == nil || jobs.IsPermanent(err) {
		t.Fatalf("Publish with a lost answer: %v, want a retryable error", err)
	}
	// The job runs again with the same request: the file holds draft2, whose
	// SHA is not LastSHA, yet nobody edited it.
	f.ResetCalls()
	res := publish(t, c, draft(draft2, first.FileSHA))
	if res.Edited || res.Created || res.FileSHA != githubfake.BlobSHA([]byte(draft2)) || res.CommitURL != "" {
		t.Errorf("result %+v", res)
	}
	if n := len(f.Calls(githubfake.RoutePutContents, githubfake.RouteCreateComment)); n != 0 {
		t.Errorf("%d writes or comments after the lost answer", n)
	}
}

func TestPublishLeavesAFilePeopleEditedAndCommentsTheDraftOnce(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	peoples := f.CommitFile(repo, branch, file, "# INC-42\n\nThe impact, as the team saw it.\n", "Fill in the impact")
	f.ResetCalls()

	res := publish(t, c, draft(draft2, first.FileSHA))

	checkCalls(t, f.Calls(),
		"GET "+pulls+" 200",
		"GET "+refBranch+" 200",
		"GET "+contents+" 200",
		"GET "+issues+"/1/comments 200",
		"POST "+issues+"/1/comments 201",
	)
	if content, _, _ := f.File(repo, branch, file); string(content) != "# INC-42\n\nThe impact, as the team saw it.\n" {
		t.Errorf("the people's file was overwritten: %q", content)
	}
	if res != (github.PublishResult{PRNumber: 1, PRURL: first.PRURL, FileSHA: peoples, Edited: true, PRState: "open"}) {
		t.Errorf("result %+v", res)
	}
	sum := sha256.Sum256([]byte(draft2))
	wantComment := "Warroom has a new draft of this postmortem. `" + file + "` has changed since Warroom last wrote it, " +
		"so Warroom left the file as it is. The new draft is below, to take from what helps.\n\n" +
		"<details><summary>New draft</summary>\n\n```markdown\n" +
		strings.TrimSuffix(draft2, "\n") +
		"\n```\n\n</details>\n\n<!-- warroom-draft sha256:" + hex.EncodeToString(sum[:]) + " -->\n"
	comments := f.Comments(repo, 1)
	if len(comments) != 1 || comments[0].Body != wantComment {
		t.Fatalf("comments %+v\nwant one with body\n%s", comments, wantComment)
	}

	// The same draft again (a retry, or a second run): no second comment.
	f.ResetCalls()
	again := publish(t, c, draft(draft2, first.FileSHA))
	if again != res {
		t.Errorf("result %+v, want %+v", again, res)
	}
	if n := len(f.Calls(githubfake.RouteCreateComment, githubfake.RoutePutContents)); n != 0 {
		t.Errorf("%d writes or comments for the same draft", n)
	}
	if n := len(f.Comments(repo, 1)); n != 1 {
		t.Errorf("%d comments", n)
	}

	// A new draft: one more comment.
	publish(t, c, draft(draft3, first.FileSHA))
	if got := f.Comments(repo, 1); len(got) != 2 || !strings.Contains(got[1].Body, "| 10:40 | resolved |") {
		t.Errorf("comments after a new draft: %+v", got)
	}
}

func TestPublishCommentsADraftTooLongForAComment(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	f.CommitFile(repo, branch, file, "edited", "edit")
	long := strings.Repeat("| 10:02 | an event with ``` in it |\n", 3000) // ~100 KB

	publish(t, c, draft(long, first.FileSHA))

	comments := f.Comments(repo, 1)
	if len(comments) != 1 {
		t.Fatalf("%d comments", len(comments))
	}
	body := comments[0].Body
	if !strings.Contains(body, "[The draft is cut here: it is too long for a comment.]") ||
		!strings.Contains(body, "````markdown\n") || !strings.HasSuffix(body, "\n````\n\n</details>\n\n"+
		"<!-- warroom-draft sha256:"+sha256hex(long)+" -->\n") {
		t.Errorf("comment of %d bytes, starting %q, ending %q", len(body), body[:300], body[len(body)-200:])
	}
	// Posted once, though cut.
	publish(t, c, draft(long, first.FileSHA))
	if n := len(f.Comments(repo, 1)); n != 1 {
		t.Errorf("%d comments", n)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestPublishRetryAfterALostCreateRefAnswer(t *testing.T) {
	f, c := setup(t)
	// GitHub makes the branch, and the answer is lost.
	f.FailNext(githubfake.RouteCreateRef, githubfake.Fault{Status: 502, Apply: true})
	_, err := c.Publish(context.Background(), draft(draft1, ""))
	if err == nil || jobs.IsPermanent(err) {
		t.Fatalf("Publish: %v, want a retryable error", err)
	}
	if _, ok := jobs.DeferOf(err); ok {
		t.Errorf("a 502 deferred the job: %v", err)
	}
	if _, ok := f.Ref(repo, "heads/"+branch); !ok {
		t.Fatal("the fake did not make the branch")
	}

	// The retry reads from a replica that has not seen the branch yet, so it
	// creates it again, and GitHub answers "Reference already exists".
	f.FailNext(githubfake.RouteGetRef, githubfake.Fault{Status: 404, Body: `{"message": "Not Found"}`})
	f.ResetCalls()
	res := publish(t, c, draft(draft1, ""))

	checkCalls(t, f.Calls(),
		"GET "+pulls+" 200",
		"GET "+refBranch+" 404",
		"GET "+refMain+" 200",
		"POST "+refs+" 422",
		"GET "+contents+" 404",
		"PUT "+contents+" 201",
		"POST "+pulls+" 201",
	)
	if !res.Created || res.PRNumber != 1 || len(f.PullRequests(repo)) != 1 {
		t.Errorf("result %+v, pull requests %+v", res, f.PullRequests(repo))
	}
}

func TestPublishWhenThePullRequestAlreadyExists(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))

	// The list is stale (or another worker just opened it): GitHub refuses
	// a second pull request, and the list is read again.
	f.FailNext(githubfake.RouteListPulls, githubfake.Fault{Status: 200, Body: "[]"})
	f.ResetCalls()
	res := publish(t, c, draft(draft1, first.FileSHA))

	checkCalls(t, f.Calls(),
		"GET "+pulls+" 200",
		"GET "+refBranch+" 200",
		"GET "+contents+" 200",
		"POST "+pulls+" 422",
		"GET "+pulls+" 200",
	)
	if res.PRNumber != 1 || res.PRURL != first.PRURL || len(f.PullRequests(repo)) != 1 {
		t.Errorf("result %+v, pull requests %+v", res, f.PullRequests(repo))
	}
}

func TestPublishAfterALostCreatePullAnswer(t *testing.T) {
	f, c := setup(t)
	f.FailNext(githubfake.RouteCreatePull, githubfake.Fault{Status: 504, Apply: true})
	if _, err := c.Publish(context.Background(), draft(draft1, "")); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("Publish: %v, want a retryable error", err)
	}
	res := publish(t, c, draft(draft1, ""))
	if res.PRNumber != 1 || len(f.PullRequests(repo)) != 1 || len(f.Calls(githubfake.RouteCreatePull)) != 1 {
		t.Errorf("result %+v, pull requests %+v", res, f.PullRequests(repo))
	}
}

func TestPublishWhereDraftsAreNotSupported(t *testing.T) {
	f, c := setup(t)
	f.DisableDrafts(repo)

	res := publish(t, c, draft(draft1, ""))

	creates := f.Calls(githubfake.RouteCreatePull)
	if len(creates) != 2 || creates[0].Status != 422 || creates[1].Status != 201 {
		t.Fatalf("creates: %v", creates)
	}
	checkBody(t, creates[1], fmt.Sprintf(`{"title": "Postmortem: INC-42 Checkout errors", "head": %q, "base": "main",
		"body": "Drafted by Warroom from INC-42's timeline.", "draft": false}`, branch))
	if prs := f.PullRequests(repo); len(prs) != 1 || prs[0].Draft || res.PRNumber != 1 {
		t.Errorf("pull requests %+v, result %+v", prs, res)
	}
}

func TestPublishTwoIncidentsOpenTwoPullRequests(t *testing.T) {
	f, c := setup(t)
	other := draft("# INC-41\n", "")
	other.Branch, other.Path, other.Title = "postmortem/inc-41-login", "postmortems/2026-11-20-inc-41-login.md", "Postmortem: INC-41"
	a := publish(t, c, other)
	b := publish(t, c, draft(draft1, ""))
	// Again: each finds its own.
	a2 := publish(t, c, other)
	b2 := publish(t, c, draft(draft1, b.FileSHA))
	if a.PRNumber != 1 || b.PRNumber != 2 || a2.PRNumber != 1 || b2.PRNumber != 2 || len(f.PullRequests(repo)) != 2 {
		t.Errorf("pull requests %d, %d, %d, %d; %+v", a.PRNumber, b.PRNumber, a2.PRNumber, b2.PRNumber, f.PullRequests(repo))
	}
}

func TestPublishRefusesABadRequestWithoutCallingGitHub(t *testing.T) {
	f, c := setup(t)
	for name, edit := range map[string]func(*github.PublishRequest){
		"repo without owner": func(r *github.PublishRequest) { r.Repo = "postmortems" },
		"no base":            func(r *github.PublishRequest) { r.Base = "" },
		"branch is the base": func(r *github.PublishRequest) { r.Branch = "main" },
		"absolute path":      func(r *github.PublishRequest) { r.Path = "/etc/passwd" },
		"path with ..":       func(r *github.PublishRequest) { r.Path = "postmortems/../x.md" },
		"path with ?":        func(r *github.PublishRequest) { r.Path = "postmortems/x.md?ref=main" },
		"no title":           func(r *github.PublishRequest) { r.Title = "" },
	} {
		req := draft(draft1, "")
		edit(&req)
		if _, err := c.Publish(context.Background(), req); !jobs.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d calls", n)
	}
}

// TestPublishKnowsAWriteWhoseAnswerWasLost: the draft changed between two
// attempts (an open incident's draft does), and the first attempt's write
// landed without an answer. The file holds a SHA that is neither LastSHA
// nor the new draft's; given in KnownSHAs, it is Warroom's, not people's.
func TestPublishKnowsAWriteWhoseAnswerWasLost(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	f.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: 502, Apply: true})
	if _, err := c.Publish(context.Background(), draft(draft2, first.FileSHA)); err == nil {
		t.Fatal("the lost answer was not an error")
	}
	req := draft(draft3, first.FileSHA)
	req.KnownSHAs = []string{githubfake.BlobSHA([]byte(draft2))}
	res := publish(t, c, req)
	if res.Edited || res.CommitURL == "" {
		t.Errorf("result %+v: the lost write was taken for people's", res)
	}
	if content, _, _ := f.File(repo, branch, file); string(content) != draft3 {
		t.Errorf("file %q", content)
	}
	// Without KnownSHAs the same state reads as people's edit.
	f.FailNext(githubfake.RoutePutContents, githubfake.Fault{Status: 502, Apply: true})
	if _, err := c.Publish(context.Background(), draft(draft1, res.FileSHA)); err == nil {
		t.Fatal("the lost answer was not an error")
	}
	if again := publish(t, c, draft(draft2, res.FileSHA)); !again.Edited {
		t.Errorf("result %+v without KnownSHAs", again)
	}
}

// TestPublishAfterThePullRequestIsMerged: a merged (or closed) postmortem
// is done; publishing again changes nothing and reports its state.
func TestPublishAfterThePullRequestIsMerged(t *testing.T) {
	f, c := setup(t)
	first := publish(t, c, draft(draft1, ""))
	f.MergePull(repo, first.PRNumber)
	f.ResetCalls()
	res := publish(t, c, draft(draft2, first.FileSHA))
	checkCalls(t, f.Calls(), "GET "+pulls+" 200")
	if res != (github.PublishResult{PRNumber: 1, PRURL: first.PRURL, PRState: "merged"}) {
		t.Errorf("result %+v", res)
	}
	if n := len(f.PullRequests(repo)); n != 1 {
		t.Errorf("%d pull requests", n)
	}
}
