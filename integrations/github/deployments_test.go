package github_test

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

const (
	svcRepo     = "acme/checkout"
	deployments = "/repos/acme/checkout/deployments"

	sha1x = "1111111111111111111111111111111111111111"
	sha2x = "2222222222222222222222222222222222222222"
	sha3x = "3333333333333333333333333333333333333333"
)

// clock is a manual clock shared by the fake and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setupDeploys starts a fake GitHub with acme/checkout and a client, both
// on a manual clock. apiURL picks how the client is pointed at the fake
// (nil: f.APIURL()).
func setupDeploys(t *testing.T, apiURL func(*githubfake.Fake) string) (*githubfake.Fake, *github.Client, *clock) {
	t.Helper()
	clk := &clock{t: githubfake.Epoch}
	f := githubfake.New(githubfake.WithClock(clk.Now))
	t.Cleanup(f.Close)
	f.AddRepo(svcRepo, "main", map[string]string{"README.md": "checkout\n"})
	u := f.APIURL()
	if apiURL != nil {
		u = apiURL(f)
	}
	c, err := github.New(f.Token(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c.WithClock(clk.Now), clk
}

func at(min int) time.Time { return githubfake.Epoch.Add(time.Duration(min) * time.Minute) }

// history adds four production deployments (v1.0 replaced, v1.1 live,
// v1.2 failed, v1.3 in progress) and one to staging, and returns their IDs.
func history(f *githubfake.Fake) []int64 {
	ids := []int64{
		f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v1.0", SHA: sha1x, Environment: "production", Creator: "alice", CreatedAt: at(-300),
			Statuses: []githubfake.DeploymentStatus{
				{State: "in_progress", CreatedAt: at(-299)},
				{State: "success", LogURL: "https://ci.example.com/1", CreatedAt: at(-290)},
				{State: "inactive", CreatedAt: at(-200)},
			}}),
		f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v1.1", SHA: sha2x, Environment: "production", Creator: "bob", CreatedAt: at(-210),
			Description: "Release 1.1",
			Statuses: []githubfake.DeploymentStatus{
				{State: "success", EnvironmentURL: "https://checkout.example.com", CreatedAt: at(-200)},
			}}),
		f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v1.2", SHA: sha3x, Environment: "production", Creator: "carol", CreatedAt: at(-60),
			Statuses: []githubfake.DeploymentStatus{
				{State: "queued", CreatedAt: at(-59)},
				{State: "error", Description: "image pull failed", LogURL: "https://ci.example.com/3", CreatedAt: at(-50)},
			}}),
		f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v1.3", SHA: sha3x, Environment: "staging", CreatedAt: at(-20)}),
		f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "main", SHA: sha3x, Environment: "production", CreatedAt: at(-10),
			Statuses: []githubfake.DeploymentStatus{{State: "in_progress", CreatedAt: at(-9)}}}),
	}
	return ids
}

func TestDeploymentsProviderReadsDeploymentsWithTheirLatestStatus(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	ids := history(f)
	f.ResetCalls()

	p := c.DeploymentsProvider(svcRepo, "production")
	if p.Source() != deploys.SourceGitHubDeployments {
		t.Errorf("Source = %s", p.Source())
	}
	got, err := p.Recent(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return strconv.FormatInt(ids[i], 10) }
	calls := f.Calls()
	checkCalls(t, calls,
		"GET "+deployments+" 200",
		"GET "+deployments+"/"+id(4)+"/statuses 200",
		"GET "+deployments+"/"+id(2)+"/statuses 200",
		"GET "+deployments+"/"+id(1)+"/statuses 200")
	if len(calls) == 4 {
		checkQuery(t, calls[0], map[string]string{"environment": "production", "per_page": "3"})
		checkQuery(t, calls[1], map[string]string{"per_page": "10"})
	}
	want := []deploys.Deploy{
		{Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: id(4), Ref: "main", SHA: sha3x,
			Status: deploys.StatusRunning, Creator: githubfake.Login, StartedAt: at(-10)},
		{Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: id(2), Ref: "v1.2", SHA: sha3x,
			Status: deploys.StatusFailed, Creator: "carol", URL: "https://ci.example.com/3", StartedAt: at(-60), FinishedAt: at(-50)},
		{Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: id(1), Ref: "v1.1", SHA: sha2x,
			Status: deploys.StatusSuccess, Creator: "bob", Description: "Release 1.1", URL: "https://checkout.example.com",
			StartedAt: at(-210), FinishedAt: at(-200)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Recent =\n%+v\nwant\n%+v", got, want)
	}

	// The replaced deployment keeps the time it went live.
	all, err := p.Recent(context.Background(), 10)
	if err != nil || len(all) != 4 {
		t.Fatalf("Recent(10) = %d deploys, %v", len(all), err)
	}
	if d := all[3]; d.Ref != "v1.0" || d.Status != deploys.StatusInactive || !d.FinishedAt.Equal(at(-290)) || d.URL != "https://ci.example.com/1" {
		t.Errorf("v1.0 = %+v", d)
	}
}

func TestDeploymentsProviderMarksWarroomRollbacks(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v1", SHA: sha1x, Environment: "production", Payload: `{"warroom_rollback_key":"rb-1"}`})
	f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v2", SHA: sha1x, Environment: "production", Payload: `"{\"warroom_rollback_key\":\"rb-2\"}"`})
	f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v3", SHA: sha1x, Environment: "production", Description: "Rollback to v1 for INC-7 (Warroom)"})
	f.AddDeployment(svcRepo, githubfake.Deployment{Ref: "v4", SHA: sha1x, Environment: "production", Payload: `{"rollback":true}`, Description: "Rollback of v3"})
	got, err := c.DeploymentsProvider(svcRepo, "production").Recent(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, d := range got {
		if d.Rollback {
			marked = append(marked, d.Ref)
		}
	}
	if want := []string{"v3", "v2", "v1"}; !reflect.DeepEqual(marked, want) {
		t.Errorf("rollbacks %v, want %v", marked, want)
	}
}

func rollbackRequest() deploys.RollbackRequest {
	return deploys.RollbackRequest{
		Key:         "inc-42/rollback-1",
		Incident:    42,
		Service:     "checkout",
		From:        deploys.Deploy{Ref: "v1.2", SHA: sha3x},
		To:          deploys.Deploy{Ref: "v1.1", SHA: sha2x},
		RequestedBy: incidents.SlackActor("U01ALICE"),
		At:          githubfake.Epoch,
	}
}

func TestDeploymentRollbackerCreatesOneDeploymentAndFollowsIt(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	history(f)
	f.ResetCalls()
	ctx := context.Background()
	rb := c.DeploymentRollbacker(svcRepo, "production")
	if rb.Mechanism() != deploys.MechanismGitHubDeployment {
		t.Errorf("Mechanism = %s", rb.Mechanism())
	}
	req := rollbackRequest()

	h, err := rb.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	checkCalls(t, calls, "GET "+deployments+" 200", "POST "+deployments+" 201")
	if len(calls) == 2 {
		checkQuery(t, calls[0], map[string]string{"ref": sha2x, "environment": "production", "per_page": "100"})
		checkBody(t, calls[1], `{"ref": "`+sha2x+`", "environment": "production", "auto_merge": false, "required_contexts": [],
			"description": "Rollback to v1.1 for INC-42 (Warroom)",
			"payload": {"warroom_rollback_key": "inc-42/rollback-1", "incident": "INC-42",
				"from": {"ref": "v1.2", "sha": "`+sha3x+`"}, "to": {"ref": "v1.1", "sha": "`+sha2x+`"},
				"requested_by": "slack:U01ALICE"}}`)
	}
	all := f.Deployments(svcRepo)
	made := all[len(all)-1]
	want := deploys.Handle{ExternalID: strconv.FormatInt(made.ID, 10), URL: f.URL() + "/acme/checkout/deployments/production"}
	if h != want {
		t.Errorf("handle %+v, want %+v", h, want)
	}
	if made.SHA != sha2x || made.Environment != "production" {
		t.Errorf("deployment %+v", made)
	}

	// Started again (a retried job), it finds the deployment.
	f.ResetCalls()
	if h2, err := rb.Start(ctx, req); err != nil || h2 != h {
		t.Errorf("second Start = %+v, %v", h2, err)
	}
	checkCalls(t, f.Calls(), "GET "+deployments+" 200")

	// Progress follows the deployment's statuses.
	steps := []struct {
		status   *githubfake.DeploymentStatus
		want     deploys.Status
		message  string
		url      string
		contains string
	}{
		{nil, deploys.StatusPending, "GitHub deployment " + h.ExternalID + " of v1.1 to production is waiting for the deploy tool (no status yet)", h.URL, ""},
		{&githubfake.DeploymentStatus{State: "in_progress", Description: "rolling out", LogURL: "https://ci.example.com/9"}, deploys.StatusRunning,
			"deploying v1.1 to production: rolling out", "https://ci.example.com/9", ""},
		{&githubfake.DeploymentStatus{State: "failure", Description: "health check failed", LogURL: "https://ci.example.com/9"}, deploys.StatusFailed,
			"GitHub deployment " + h.ExternalID + " of v1.1 to production failed (failure): health check failed; see https://ci.example.com/9", "https://ci.example.com/9", ""},
	}
	for _, s := range steps {
		if s.status != nil {
			f.AddDeploymentStatus(svcRepo, made.ID, *s.status)
		}
		f.ResetCalls()
		p, err := rb.Progress(ctx, req, h)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != s.want || p.Message != s.message || p.URL != s.url || p.Handle != (deploys.Handle{}) {
			t.Errorf("Progress = %+v, want %s %q %s", p, s.want, s.message, s.url)
		}
		checkCalls(t, f.Calls(), "GET "+deployments+"/"+h.ExternalID+"/statuses 200")
	}
	if n := len(f.Deployments(svcRepo)); n != len(all) {
		t.Errorf("%d deployments, want %d", n, len(all))
	}
}

func TestDeploymentRollbackerAfterALostAnswer(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	history(f)
	before := len(f.Deployments(svcRepo))
	ctx := context.Background()
	rb := c.DeploymentRollbacker(svcRepo, "production")
	f.FailNext(githubfake.RouteCreateDeployment, githubfake.Fault{Status: 502, Apply: true})

	if _, err := rb.Start(ctx, rollbackRequest()); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("Start: %v, want a retryable error", err)
	}
	h, err := rb.Start(ctx, rollbackRequest())
	if err != nil {
		t.Fatal(err)
	}
	all := f.Deployments(svcRepo)
	if len(all) != before+1 || h.ExternalID != strconv.FormatInt(all[len(all)-1].ID, 10) {
		t.Errorf("%d deployments (want %d), handle %+v", len(all), before+1, h)
	}
	if n := len(f.Calls(githubfake.RouteCreateDeployment)); n != 1 {
		t.Errorf("%d creates", n)
	}

	// Another rollback to the same version is another deployment.
	req := rollbackRequest()
	req.Key = "inc-42/rollback-2"
	h2, err := rb.Start(ctx, req)
	if err != nil || h2.ExternalID == h.ExternalID {
		t.Errorf("other key: %+v, %v", h2, err)
	}
}

func TestDeploymentRollbackerUsesTheRefWithoutASHA(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	req := rollbackRequest()
	req.To = deploys.Deploy{Ref: "main"}
	if _, err := c.DeploymentRollbacker(svcRepo, "production").Start(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	d := f.Deployments(svcRepo)[0]
	main, _ := f.Ref(svcRepo, "heads/main")
	if d.Ref != "main" || d.SHA != main || d.Description != "Rollback to main for INC-42 (Warroom)" {
		t.Errorf("deployment %+v", d)
	}
}

func TestDeploymentRollbackerRefusesBadRequests(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	for _, mod := range []func(*deploys.RollbackRequest){
		func(r *deploys.RollbackRequest) { r.Key = "" },
		func(r *deploys.RollbackRequest) { r.To = deploys.Deploy{} },
	} {
		req := rollbackRequest()
		mod(&req)
		if _, err := c.DeploymentRollbacker(svcRepo, "production").Start(context.Background(), req); !jobs.IsPermanent(err) {
			t.Errorf("%+v: %v, want permanent", req, err)
		}
	}
	if _, err := c.DeploymentRollbacker("acme", "production").Start(context.Background(), rollbackRequest()); !jobs.IsPermanent(err) {
		t.Errorf("bad repo: %v", err)
	}
	if _, err := c.DeploymentRollbacker(svcRepo, "production").Progress(context.Background(), rollbackRequest(), deploys.Handle{ExternalID: "x"}); !jobs.IsPermanent(err) {
		t.Errorf("bad handle: %v", err)
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d calls", n)
	}
}

func TestDeploymentsRateLimitDefers(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	reset := githubfake.Epoch.Add(7 * time.Minute)
	for _, route := range []string{githubfake.RouteListDeployments, githubfake.RouteListDeploymentStatuses} {
		history(f)
		f.FailNext(route, githubfake.Fault{Status: 403, Header: http.Header{
			"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)},
		}, Body: `{"message": "API rate limit exceeded"}`})
		// A fresh client: go-github remembers the limit.
		c2, _ := github.New(f.Token(), f.APIURL(), nil)
		_, err := c2.DeploymentsProvider(svcRepo, "production").Recent(context.Background(), 5)
		if d, ok := jobs.DeferOf(err); !ok || d != 7*time.Minute {
			t.Errorf("%s: %v: deferred %v %v, want 7m", route, err, d, ok)
		}
	}
	_ = c
}

func TestDeploymentsOnGitHubEnterprise(t *testing.T) {
	for name, u := range map[string]func(*githubfake.Fake) string{
		"host":          func(f *githubfake.Fake) string { return f.URL() },
		"host slash":    func(f *githubfake.Fake) string { return f.URL() + "/" },
		"api/v3":        func(f *githubfake.Fake) string { return f.URL() + "/api/v3" },
		"api/v3/ slash": func(f *githubfake.Fake) string { return f.URL() + "/api/v3/" },
	} {
		t.Run(name, func(t *testing.T) {
			f, c, _ := setupDeploys(t, u)
			history(f)
			got, err := c.DeploymentsProvider(svcRepo, "production").Recent(context.Background(), 1)
			if err != nil || len(got) != 1 || got[0].Ref != "main" {
				t.Fatalf("Recent = %+v, %v", got, err)
			}
			h, err := c.DeploymentRollbacker(svcRepo, "production").Start(context.Background(), rollbackRequest())
			if err != nil || h.URL != f.URL()+"/acme/checkout/deployments/production" {
				t.Errorf("Start = %+v, %v", h, err)
			}
			for _, call := range f.Calls() {
				if call.Route == "" || strings.HasPrefix(call.Path, "/api/v3") {
					t.Errorf("call %s was not below /api/v3", call)
				}
			}
		})
	}
}

func TestRollbackDescriptionFitsGitHub(t *testing.T) {
	req := rollbackRequest()
	req.To.Ref = strings.Repeat("r", 300)
	d := github.RollbackDescription(req)
	if n := len([]rune(d)); n > 140 || !strings.HasPrefix(d, "Rollback to rrr") || !strings.HasSuffix(d, "… for INC-42 (Warroom)") {
		t.Errorf("%d runes: %q", n, d)
	}
	req.To = deploys.Deploy{SHA: sha2x}
	if d := github.RollbackDescription(req); d != "Rollback to 2222222 for INC-42 (Warroom)" {
		t.Errorf("%q", d)
	}
}
