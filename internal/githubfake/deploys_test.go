package githubfake

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeploymentStatusSuccessMakesEarlierDeploymentsInactive(t *testing.T) {
	f := New()
	defer f.Close()
	f.AddRepo("acme/api", "main", nil)
	sha, _ := f.Ref("acme/api", "heads/main")
	old := f.AddDeployment("acme/api", Deployment{Ref: "v1", SHA: sha, Environment: "production", Statuses: []DeploymentStatus{{State: "success"}}})
	staging := f.AddDeployment("acme/api", Deployment{Ref: "v1", SHA: sha, Environment: "staging", Statuses: []DeploymentStatus{{State: "success"}}})

	code, _, v := do(t, f, "POST", "/repos/acme/api/deployments", `{"ref": "main", "environment": "production", "payload": {"a": 1}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, v)
	}
	id := int64(v.(map[string]any)["id"].(float64))
	if p := v.(map[string]any)["payload"].(map[string]any); p["a"] != 1.0 {
		t.Errorf("payload %v", p)
	}
	if code, _, v := do(t, f, "POST", "/repos/acme/api/deployments/"+itoa(id)+"/statuses", `{"state": "success"}`); code != 201 {
		t.Fatalf("status: %d %v", code, v)
	}
	for _, d := range f.Deployments("acme/api") {
		last := d.Statuses[len(d.Statuses)-1].State
		want := map[int64]string{old: "inactive", staging: "success", id: "success"}[d.ID]
		if last != want {
			t.Errorf("deployment %d (%s) is %s, want %s", d.ID, d.Environment, last, want)
		}
	}
	if code, _, v := do(t, f, "POST", "/repos/acme/api/deployments", `{"ref": "nope"}`); code != 409 || message(v) != "No ref found for: nope" {
		t.Errorf("unknown ref: %d %v", code, v)
	}
}

func TestWorkflowDispatchAndRuns(t *testing.T) {
	var mu sync.Mutex
	now := Epoch
	f := New(WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	defer f.Close()
	f.AddRepo("acme/api", "main", nil)
	f.AddWorkflow("acme/api", Workflow{File: "rollback.yml", Inputs: []string{"target_ref"}, RunName: "Rollback to ${{ inputs.target_ref }}"})
	f.SetRunDelay(time.Second)

	if code, _, v := do(t, f, "POST", "/repos/acme/api/actions/workflows/rollback.yml/dispatches", `{"ref": "main", "inputs": {"target_ref": "v1", "other": "x"}}`); code != 422 ||
		message(v) != `Unexpected inputs provided: ["other"]` {
		t.Errorf("undeclared input: %d %v", code, v)
	}
	req, _ := do204(t, f, "/repos/acme/api/actions/workflows/rollback.yml/dispatches", `{"ref": "main", "inputs": {"target_ref": "v1"}}`)
	if req != 204 {
		t.Fatalf("dispatch: %d", req)
	}
	list := func(query string) []any {
		code, _, v := do(t, f, "GET", "/repos/acme/api/actions/workflows/rollback.yml/runs"+query, "")
		if code != 200 {
			t.Fatalf("list: %d %v", code, v)
		}
		return v.(map[string]any)["workflow_runs"].([]any)
	}
	if n := len(list("")); n != 0 {
		t.Errorf("%d runs before the delay", n)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	runs := list("?event=workflow_dispatch&created=%3E%3D2026-11-21T10:00:00Z")
	if len(runs) != 1 || runs[0].(map[string]any)["display_title"] != "Rollback to v1" || runs[0].(map[string]any)["status"] != "queued" {
		t.Errorf("runs %v", runs)
	}
	if n := len(list("?created=%3E2026-11-21T10:00:00Z")); n != 0 {
		t.Errorf("created > filter: %d runs", n)
	}
	if n := len(list("?event=push")); n != 0 {
		t.Errorf("event filter: %d runs", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func do204(t *testing.T, f *Fake, path, body string) (int, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.APIURL()+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
