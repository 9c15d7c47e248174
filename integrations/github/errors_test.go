package github_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

// outcome is how a job would treat an error.
type outcome struct {
	permanent  bool
	deferFor   time.Duration // jobs.Defer
	retryAfter time.Duration // jobs.RetryAfter
}

func outcomeOf(err error) outcome {
	var o outcome
	o.permanent = jobs.IsPermanent(err)
	o.deferFor, _ = jobs.DeferOf(err)
	o.retryAfter, _ = jobs.RetryAfterOf(err)
	return o
}

func TestErrorsFollowTheJobContract(t *testing.T) {
	const secondaryDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	unix := func(d time.Duration) string { return strconv.FormatInt(githubfake.Epoch.Add(d).Unix(), 10) }
	for _, tc := range []struct {
		name  string
		fault githubfake.Fault
		want  outcome
		text  string // in the error
	}{{
		name: "primary rate limit",
		fault: githubfake.Fault{Status: 403, Header: http.Header{
			"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Used": {"5000"},
			"X-Ratelimit-Reset": {unix(90 * time.Second)}, "X-Ratelimit-Resource": {"core"},
		}, Body: `{"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit"}`},
		want: outcome{deferFor: 90 * time.Second},
		text: "rate limit",
	}, {
		name:  "429 with Retry-After",
		fault: githubfake.Fault{Status: 429, Header: http.Header{"Retry-After": {"30"}}},
		want:  outcome{deferFor: 30 * time.Second},
	}, {
		name: "secondary rate limit with Retry-After",
		fault: githubfake.Fault{Status: 403, Header: http.Header{"Retry-After": {"45"}},
			Body: `{"message": "You have exceeded a secondary rate limit.", "documentation_url": "` + secondaryDocs + `"}`},
		want: outcome{deferFor: 45 * time.Second},
	}, {
		name: "secondary rate limit with a reset",
		fault: githubfake.Fault{Status: 403, Header: http.Header{"X-Ratelimit-Remaining": {"4000"}, "X-Ratelimit-Reset": {unix(2 * time.Minute)}},
			Body: `{"message": "You have exceeded a secondary rate limit.", "documentation_url": "` + secondaryDocs + `"}`},
		want: outcome{deferFor: 2 * time.Minute},
	}, {
		name: "secondary rate limit without a time",
		fault: githubfake.Fault{Status: 403,
			Body: `{"message": "You have exceeded a secondary rate limit.", "documentation_url": "` + secondaryDocs + `"}`},
		want: outcome{deferFor: time.Minute},
	}, {
		name:  "502",
		fault: githubfake.Fault{Status: 502},
		want:  outcome{},
	}, {
		name:  "503 with Retry-After",
		fault: githubfake.Fault{Status: 503, Header: http.Header{"Retry-After": {"20"}}},
		want:  outcome{retryAfter: 20 * time.Second},
	}, {
		name:  "403 without permission",
		fault: githubfake.Fault{Status: 403, Body: `{"message": "Resource not accessible by personal access token"}`},
		want:  outcome{permanent: true},
		text:  "the token needs contents: write and pull requests: write on acme/postmortems",
	}, {
		name:  "409",
		fault: githubfake.Fault{Status: 409, Body: `{"message": "Git Repository is empty."}`},
		want:  outcome{},
	}, {
		name:  "422",
		fault: githubfake.Fault{Status: 422, Body: `{"message": "Validation Failed", "errors": [{"resource": "Reference", "code": "invalid"}]}`},
		want:  outcome{permanent: true},
		text:  "GitHub refused the request (422)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := setup(t)
			f.FailNext(githubfake.RouteGetRef, tc.fault)
			_, err := c.Publish(context.Background(), draft(draft1, ""))
			if err == nil {
				t.Fatal("no error")
			}
			if got := outcomeOf(err); got != tc.want {
				t.Errorf("%v: outcome %+v, want %+v", err, got, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), "reading branch "+branch+" of "+repo) {
				t.Errorf("error %q does not say what it was doing, or %q", err, tc.text)
			}
			if strings.Contains(err.Error(), f.Token()) {
				t.Errorf("error %q has the token", err)
			}
		})
	}
}

// After a primary rate limit, go-github refuses further calls itself until
// the reset, without asking GitHub; those refusals defer too.
func TestRateLimitRefusedWithoutAsking(t *testing.T) {
	start := time.Now()
	f := githubfake.New(githubfake.WithClock(time.Now))
	t.Cleanup(f.Close)
	f.AddRepo(repo, "main", nil)
	c, err := github.New(f.Token(), f.APIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	reset := start.Add(10 * time.Minute).Truncate(time.Second)
	f.FailNext(githubfake.RouteListPulls, githubfake.Fault{Status: 403, Header: http.Header{
		"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)},
	}, Body: `{"message": "API rate limit exceeded"}`})

	for i := range 2 {
		_, err := c.Publish(context.Background(), draft(draft1, ""))
		d, ok := jobs.DeferOf(err)
		// The wall clock runs: allow for how long the test takes.
		if lo, hi := time.Until(reset)-time.Second, reset.Sub(start)+time.Second; !ok || d < lo || d > hi {
			t.Errorf("call %d: %v: deferred %v, want within [%v, %v]", i+1, err, d, lo, hi)
		}
	}
	if n := len(f.Calls()); n != 1 {
		t.Errorf("%d calls reached GitHub, want 1", n)
	}
}

func TestUnauthorizedIsPermanentAndKeepsTheTokenOut(t *testing.T) {
	f, _ := setup(t)
	const token = "ghp_wrongWRONGwrong0123456789abcdefABCD"
	c, err := github.New(token, f.APIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), draft(draft1, ""))
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check github.token") {
		t.Errorf("Publish with a wrong token: %v", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q has the token", err)
	}
	_, err = c.EnsureIssue(context.Background(), repo, "t", "", nil, "k")
	if !jobs.IsPermanent(err) || strings.Contains(err.Error(), token) {
		t.Errorf("EnsureIssue with a wrong token: %v", err)
	}
}

func TestAnEchoedTokenIsRedacted(t *testing.T) {
	f, c := setup(t)
	// A proxy that quotes the request's Authorization in its answer.
	f.FailNext(githubfake.RouteGetRef, githubfake.Fault{Status: 403, Body: `{"message": "Bearer ` + f.Token() + ` may not do this"}`})
	_, err := c.Publish(context.Background(), draft(draft1, ""))
	if err == nil || strings.Contains(err.Error(), f.Token()) || !strings.Contains(err.Error(), "Bearer [redacted] may not") {
		t.Errorf("error %q", err)
	}
	if !jobs.IsPermanent(err) { // the redaction keeps the job contract
		t.Errorf("error %q is not permanent", err)
	}
}

func TestMissingRepositoryOrBranchIsPermanent(t *testing.T) {
	f, c := setup(t)
	req := draft(draft1, "")
	req.Repo = "acme/nope"
	_, err := c.Publish(context.Background(), req)
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "repository acme/nope not found (404)") {
		t.Errorf("Publish to a missing repository: %v", err)
	}
	req = draft(draft1, "")
	req.Base = "trunk"
	_, err = c.Publish(context.Background(), req)
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "base branch trunk not found in acme/postmortems") {
		t.Errorf("Publish onto a missing base: %v", err)
	}
	_, err = c.EnsureIssue(context.Background(), "acme/nope", "t", "", nil, "k")
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "repository acme/nope not found (404)") {
		t.Errorf("EnsureIssue in a missing repository: %v", err)
	}
	if n := len(f.Calls(githubfake.RouteCreateRef, githubfake.RouteCreateIssue)); n != 0 {
		t.Errorf("%d creations", n)
	}
}

func TestNetworkErrorsAndCancellationAreRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	const token = "ghp_networkNETWORK0123456789abcdefABCD"
	c, err := github.New(token, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), draft(draft1, ""))
	if err == nil || outcomeOf(err) != (outcome{}) || strings.Contains(err.Error(), token) {
		t.Errorf("Publish to nowhere: %v, outcome %+v", err, outcomeOf(err))
	}

	_, c2 := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c2.Publish(ctx, draft(draft1, ""))
	if !errors.Is(err, context.Canceled) || outcomeOf(err) != (outcome{}) {
		t.Errorf("Publish with a cancelled context: %v, outcome %+v", err, outcomeOf(err))
	}
}
