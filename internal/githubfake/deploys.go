package githubfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The deployment and Actions routes, below /api/v3.
const (
	RouteGetRepo                = "GET /repos/{owner}/{repo}"
	RouteListDeployments        = "GET /repos/{owner}/{repo}/deployments"
	RouteCreateDeployment       = "POST /repos/{owner}/{repo}/deployments"
	RouteGetDeployment          = "GET /repos/{owner}/{repo}/deployments/{id}"
	RouteListDeploymentStatuses = "GET /repos/{owner}/{repo}/deployments/{id}/statuses"
	RouteCreateDeploymentStatus = "POST /repos/{owner}/{repo}/deployments/{id}/statuses"
	RouteListWorkflowRuns       = "GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs"
	RouteDispatchWorkflow       = "POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"
	RouteGetWorkflowRun         = "GET /repos/{owner}/{repo}/actions/runs/{id}"
	RouteListRunJobs            = "GET /repos/{owner}/{repo}/actions/runs/{id}/jobs"
)

// Login is the user the fake's token belongs to: the creator of the
// deployments and the actor of the workflow runs that the client makes.
const Login = "warroom-bot"

// deployState is what the fake keeps of deployments and workflow runs.
type deployState struct {
	lastID   int64 // deployments, statuses, runs and jobs share the sequence
	runDelay time.Duration
	byRepo   map[string]*repoDeploys // by lower-case "owner/name"
}

type repoDeploys struct {
	deployments []*deployment // in creation order
	workflows   []*Workflow
	runs        []*run // in creation order
}

type deployment struct {
	Deployment
	payload json.RawMessage
}

type run struct {
	WorkflowRun
	workflow *Workflow
	visible  time.Time
}

// Deployment is a GitHub deployment as the fake holds it.
type Deployment struct {
	ID          int64
	Ref, SHA    string
	Task        string // "deploy" by default
	Environment string
	Description string
	// Payload is the deployment's payload, as JSON ({} by default).
	Payload   string
	Creator   string // a login; Login by default
	CreatedAt time.Time
	// Statuses, oldest first.
	Statuses []DeploymentStatus
	// Request is the body of the request that created it (nil for one
	// added with AddDeployment).
	Request map[string]any
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID             int64
	State          string // error, failure, inactive, in_progress, queued, pending, success
	Description    string
	LogURL         string
	EnvironmentURL string
	Creator        string
	CreatedAt      time.Time
}

// Workflow is a workflow file of a repository.
type Workflow struct {
	ID   int64
	File string // the file name under .github/workflows, "rollback.yml"
	Name string
	// Inputs are the inputs its workflow_dispatch trigger declares; a
	// dispatch with any other input is refused with 422, as on GitHub.
	// Nil accepts any input.
	Inputs []string
	// RunName is its run-name, with ${{ inputs.NAME }} expressions; the
	// display title of its runs. Empty: runs are titled with Name.
	RunName string
}

// WorkflowRun is a run of a workflow.
type WorkflowRun struct {
	ID           int64
	Workflow     string // the workflow's file name
	DisplayTitle string
	Event        string // "workflow_dispatch", "push", ...
	// HeadRepository is the full name of the repository of the head
	// commit: a fork's for a fork's pull request. Empty: the run's own.
	HeadRepository string
	HeadBranch     string
	HeadSHA        string
	// Status is queued, in_progress or completed; Conclusion, once
	// completed, success, failure, cancelled, timed_out...
	Status, Conclusion string
	Actor              string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Inputs are a dispatched run's inputs.
	Inputs map[string]string
	// FailedJob and FailedStep name what failed in a failed run (its jobs
	// list shows them).
	FailedJob, FailedStep string
	URL                   string // html_url
}

// routeDeploys adds the deployment and Actions routes.
func (f *Fake) routeDeploys() {
	f.mux.HandleFunc(RouteGetRepo, f.getRepo)
	f.mux.HandleFunc(RouteListDeployments, f.listDeployments)
	f.mux.HandleFunc(RouteCreateDeployment, f.createDeployment)
	f.mux.HandleFunc(RouteGetDeployment, f.getDeployment)
	f.mux.HandleFunc(RouteListDeploymentStatuses, f.listDeploymentStatuses)
	f.mux.HandleFunc(RouteCreateDeploymentStatus, f.createDeploymentStatus)
	f.mux.HandleFunc(RouteListWorkflowRuns, f.listWorkflowRuns)
	f.mux.HandleFunc(RouteDispatchWorkflow, f.dispatchWorkflow)
	f.mux.HandleFunc(RouteGetWorkflowRun, f.getWorkflowRun)
	f.mux.HandleFunc(RouteListRunJobs, f.listRunJobs)
}

func (f *Fake) depsOf(rp *repo) *repoDeploys {
	if f.deploys.byRepo == nil {
		f.deploys.byRepo = map[string]*repoDeploys{}
	}
	key := strings.ToLower(rp.owner + "/" + rp.name)
	d := f.deploys.byRepo[key]
	if d == nil {
		d = &repoDeploys{}
		f.deploys.byRepo[key] = d
	}
	return d
}

func (f *Fake) nextID() int64 {
	f.deploys.lastID++
	return 1000 + f.deploys.lastID
}

// SetRunDelay makes dispatched runs appear in lists only d after their
// dispatch (by the fake's clock), as on GitHub, where a run shows up some
// seconds after the dispatch's 204.
func (f *Fake) SetRunDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deploys.runDelay = d
}

// AddDeployment is a deploy tool creating a deployment, with its statuses
// (their IDs and empty times are filled in). It returns its ID. The SHA
// becomes a commit of the repository, so that a deployment can be created
// for it later.
func (f *Fake) AddDeployment(fullName string, d Deployment) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	dd := &deployment{Deployment: d}
	dd.ID = f.nextID()
	if dd.Task == "" {
		dd.Task = "deploy"
	}
	if dd.Creator == "" {
		dd.Creator = Login
	}
	if dd.CreatedAt.IsZero() {
		dd.CreatedAt = f.now()
	}
	dd.payload = json.RawMessage("{}")
	if d.Payload != "" {
		dd.payload = json.RawMessage(d.Payload)
	}
	dd.Statuses = nil
	for _, s := range d.Statuses {
		f.addStatus(dd, s)
	}
	if d.SHA != "" && rp.commits[d.SHA] == nil {
		rp.commits[d.SHA] = &commit{sha: d.SHA, message: "deployed " + d.Ref, tree: map[string][]byte{}}
	}
	deps := f.depsOf(rp)
	deps.deployments = append(deps.deployments, dd)
	return dd.ID
}

// AddDeploymentStatus is a deploy tool reporting a deployment's status.
func (f *Fake) AddDeploymentStatus(fullName string, id int64, s DeploymentStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.findDeployment(f.mustRepo(fullName), id)
	if d == nil {
		panic(fmt.Sprintf("githubfake: no deployment %d in %s", id, fullName))
	}
	f.addStatus(d, s)
}

func (f *Fake) addStatus(d *deployment, s DeploymentStatus) DeploymentStatus {
	s.ID = f.nextID()
	if s.Creator == "" {
		s.Creator = Login
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = f.now()
	}
	d.Statuses = append(d.Statuses, s)
	return s
}

func (f *Fake) findDeployment(rp *repo, id int64) *deployment {
	for _, d := range f.depsOf(rp).deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// Deployments returns the repository's deployments in creation order.
func (f *Fake) Deployments(fullName string) []Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Deployment
	for _, d := range f.depsOf(f.mustRepo(fullName)).deployments {
		c := d.Deployment
		c.Payload = string(d.payload)
		c.Statuses = slices.Clone(d.Statuses)
		out = append(out, c)
	}
	return out
}

// AddWorkflow adds a workflow file to the repository and returns its ID.
func (f *Fake) AddWorkflow(fullName string, w Workflow) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	deps := f.depsOf(f.mustRepo(fullName))
	w.ID = f.nextID()
	if w.Name == "" {
		w.Name = strings.TrimSuffix(strings.TrimSuffix(w.File, ".yml"), ".yaml")
	}
	deps.workflows = append(deps.workflows, &w)
	return w.ID
}

// AddRun adds a run of one of the repository's workflows (by file name),
// and returns its ID. Empty fields get defaults: event push, status
// completed, actor Login, created now, title the workflow's name.
func (f *Fake) AddRun(fullName string, r WorkflowRun) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	wf := f.workflowOf(rp, r.Workflow)
	if wf == nil {
		panic("githubfake: no workflow " + r.Workflow + " in " + fullName)
	}
	if r.Event == "" {
		r.Event = "push"
	}
	if r.Status == "" {
		r.Status = "completed"
	}
	if r.Actor == "" {
		r.Actor = Login
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = f.now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	if r.DisplayTitle == "" {
		r.DisplayTitle = wf.Name
	}
	return f.addRun(rp, wf, r, r.CreatedAt).ID
}

func (f *Fake) addRun(rp *repo, wf *Workflow, r WorkflowRun, visible time.Time) *run {
	r.ID = f.nextID()
	r.Workflow = wf.File
	r.URL = fmt.Sprintf("%s/%s/%s/actions/runs/%d", f.web(), rp.owner, rp.name, r.ID)
	rr := &run{WorkflowRun: r, workflow: wf, visible: visible}
	deps := f.depsOf(rp)
	deps.runs = append(deps.runs, rr)
	return rr
}

// SetRun is GitHub moving run id on: status queued, in_progress or
// completed, with conclusion success, failure, cancelled... once
// completed. failedJob and failedStep name what failed, for a failure.
func (f *Fake) SetRun(fullName string, id int64, status, conclusion, failedJob, failedStep string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.depsOf(f.mustRepo(fullName)).runs {
		if r.ID == id {
			r.Status, r.Conclusion, r.FailedJob, r.FailedStep = status, conclusion, failedJob, failedStep
			r.UpdatedAt = f.now()
			return
		}
	}
	panic(fmt.Sprintf("githubfake: no run %d in %s", id, fullName))
}

// Runs returns the repository's workflow runs in creation order, visible
// yet or not.
func (f *Fake) Runs(fullName string) []WorkflowRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []WorkflowRun
	for _, r := range f.depsOf(f.mustRepo(fullName)).runs {
		c := r.WorkflowRun
		c.Inputs = cloneMap(r.Inputs)
		out = append(out, c)
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *Fake) workflowOf(rp *repo, name string) *Workflow {
	for _, w := range f.depsOf(rp).workflows {
		if w.File == name || strconv.FormatInt(w.ID, 10) == name {
			return w
		}
	}
	return nil
}

func user(login string) map[string]any {
	return map[string]any{"login": login, "type": "User"}
}

func (f *Fake) getRepo(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": rp.name, "full_name": rp.owner + "/" + rp.name, "owner": user(rp.owner),
		"default_branch": rp.defaultBranch, "html_url": f.web() + "/" + rp.owner + "/" + rp.name,
		"url": strings.TrimSuffix(f.apiURL(rp, ""), "/"),
	})
}

func (f *Fake) deploymentJSON(rp *repo, d *deployment) map[string]any {
	return map[string]any{
		"id":                     d.ID,
		"node_id":                fmt.Sprintf("DE_%d", d.ID),
		"url":                    f.apiURL(rp, fmt.Sprintf("deployments/%d", d.ID)),
		"sha":                    d.SHA,
		"ref":                    d.Ref,
		"task":                   d.Task,
		"payload":                d.payload,
		"original_environment":   d.Environment,
		"environment":            d.Environment,
		"description":            nullable(d.Description),
		"creator":                user(d.Creator),
		"created_at":             stamp(d.CreatedAt),
		"updated_at":             stamp(d.CreatedAt),
		"statuses_url":           f.apiURL(rp, fmt.Sprintf("deployments/%d/statuses", d.ID)),
		"repository_url":         strings.TrimSuffix(f.apiURL(rp, ""), "/"),
		"transient_environment":  false,
		"production_environment": d.Environment == "production",
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *Fake) statusJSON(rp *repo, d *deployment, s DeploymentStatus) map[string]any {
	return map[string]any{
		"id":              s.ID,
		"node_id":         fmt.Sprintf("DES_%d", s.ID),
		"url":             f.apiURL(rp, fmt.Sprintf("deployments/%d/statuses/%d", d.ID, s.ID)),
		"state":           s.State,
		"creator":         user(s.Creator),
		"description":     s.Description,
		"environment":     d.Environment,
		"target_url":      s.LogURL,
		"log_url":         s.LogURL,
		"environment_url": s.EnvironmentURL,
		"created_at":      stamp(s.CreatedAt),
		"updated_at":      stamp(s.CreatedAt),
		"deployment_url":  f.apiURL(rp, fmt.Sprintf("deployments/%d", d.ID)),
		"repository_url":  strings.TrimSuffix(f.apiURL(rp, ""), "/"),
	}
}

// listDeployments lists newest first, filtered by sha, ref, task and
// environment.
func (f *Fake) listDeployments(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	out := []map[string]any{}
	deps := f.depsOf(rp).deployments
	for i := len(deps) - 1; i >= 0; i-- {
		d := deps[i]
		if (q.Has("sha") && q.Get("sha") != d.SHA) || (q.Has("ref") && q.Get("ref") != d.Ref) ||
			(q.Has("task") && q.Get("task") != d.Task) || (q.Has("environment") && q.Get("environment") != d.Environment) {
			continue
		}
		out = append(out, f.deploymentJSON(rp, d))
	}
	writeJSON(w, http.StatusOK, page(f, w, r, out))
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// resolve returns the commit that ref (a branch, "heads/x", or a commit
// SHA of the repository) points at.
func (rp *repo) resolve(ref string) (string, bool) {
	ref = strings.TrimPrefix(ref, "refs/")
	if sha, ok := rp.refs[ref]; ok {
		return sha, true
	}
	if sha, ok := rp.refs["heads/"+ref]; ok {
		return sha, true
	}
	if sha, ok := rp.refs["tags/"+ref]; ok {
		return sha, true
	}
	if hexSHA.MatchString(ref) && rp.commits[ref] != nil {
		return ref, true
	}
	return "", false
}

func (f *Fake) createDeployment(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Ref              *string          `json:"ref"`
		Task             string           `json:"task"`
		Environment      string           `json:"environment"`
		Description      string           `json:"description"`
		Payload          json.RawMessage  `json:"payload"`
		RequiredContexts *json.RawMessage `json:"required_contexts"`
	}
	var raw map[string]any
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &in) != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if in.Ref == nil || *in.Ref == "" {
		validation(w, fieldError{Resource: "Deployment", Field: "ref", Code: "missing_field"})
		return
	}
	sha, ok := rp.resolve(*in.Ref)
	if !ok {
		writeError(w, http.StatusConflict, "No ref found for: "+*in.Ref)
		return
	}
	d := &deployment{Deployment: Deployment{
		ID: f.nextID(), Ref: *in.Ref, SHA: sha, Task: in.Task, Environment: in.Environment,
		Description: in.Description, Creator: Login, CreatedAt: f.now(), Request: raw,
	}}
	if d.Task == "" {
		d.Task = "deploy"
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	d.payload = json.RawMessage("{}")
	if len(in.Payload) > 0 && string(in.Payload) != "null" {
		d.payload = in.Payload
	}
	deps := f.depsOf(rp)
	deps.deployments = append(deps.deployments, d)
	writeJSON(w, http.StatusCreated, f.deploymentJSON(rp, d))
}

func (f *Fake) deploymentOf(w http.ResponseWriter, r *http.Request) (*repo, *deployment) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	d := f.findDeployment(rp, id)
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, nil
	}
	return rp, d
}

func (f *Fake) getDeployment(w http.ResponseWriter, r *http.Request) {
	if rp, d := f.deploymentOf(w, r); d != nil {
		writeJSON(w, http.StatusOK, f.deploymentJSON(rp, d))
	}
}

// listDeploymentStatuses lists newest first.
func (f *Fake) listDeploymentStatuses(w http.ResponseWriter, r *http.Request) {
	rp, d := f.deploymentOf(w, r)
	if d == nil {
		return
	}
	out := []map[string]any{}
	for i := len(d.Statuses) - 1; i >= 0; i-- {
		out = append(out, f.statusJSON(rp, d, d.Statuses[i]))
	}
	writeJSON(w, http.StatusOK, page(f, w, r, out))
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

// createDeploymentStatus adds a status; a success makes the environment's
// earlier successful deployments inactive unless auto_inactive is false,
// as on GitHub.
func (f *Fake) createDeploymentStatus(w http.ResponseWriter, r *http.Request) {
	rp, d := f.deploymentOf(w, r)
	if d == nil {
		return
	}
	var in struct {
		State          string `json:"state"`
		Description    string `json:"description"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
		EnvironmentURL string `json:"environment_url"`
		AutoInactive   *bool  `json:"auto_inactive"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !slices.Contains(deploymentStates, in.State) {
		validation(w, fieldError{Resource: "DeploymentStatus", Field: "state", Code: "invalid"})
		return
	}
	logURL := in.LogURL
	if logURL == "" {
		logURL = in.TargetURL
	}
	s := f.addStatus(d, DeploymentStatus{State: in.State, Description: in.Description, LogURL: logURL, EnvironmentURL: in.EnvironmentURL})
	if in.State == "success" && (in.AutoInactive == nil || *in.AutoInactive) {
		for _, o := range f.depsOf(rp).deployments {
			if o != d && o.Environment == d.Environment && len(o.Statuses) > 0 && o.Statuses[len(o.Statuses)-1].State == "success" {
				f.addStatus(o, DeploymentStatus{State: "inactive"})
			}
		}
	}
	writeJSON(w, http.StatusCreated, f.statusJSON(rp, d, s))
}

func (f *Fake) runJSON(rp *repo, r *run) map[string]any {
	conclusion := any(nil)
	if r.Status == "completed" {
		conclusion = r.Conclusion
	}
	return map[string]any{
		"id":               r.ID,
		"name":             r.workflow.Name,
		"node_id":          fmt.Sprintf("WFR_%d", r.ID),
		"head_branch":      r.HeadBranch,
		"head_sha":         r.HeadSHA,
		"path":             ".github/workflows/" + r.workflow.File,
		"display_title":    r.DisplayTitle,
		"run_number":       r.ID - 1000,
		"run_attempt":      1,
		"event":            r.Event,
		"repository":       map[string]any{"full_name": rp.owner + "/" + rp.name},
		"head_repository":  map[string]any{"full_name": cmp.Or(r.HeadRepository, rp.owner+"/"+rp.name)},
		"status":           r.Status,
		"conclusion":       conclusion,
		"workflow_id":      r.workflow.ID,
		"url":              f.apiURL(rp, fmt.Sprintf("actions/runs/%d", r.ID)),
		"html_url":         r.URL,
		"created_at":       stamp(r.CreatedAt),
		"updated_at":       stamp(r.UpdatedAt),
		"run_started_at":   stamp(r.CreatedAt),
		"actor":            user(r.Actor),
		"triggering_actor": user(r.Actor),
	}
}

// createdMatches applies the runs list's created filter: ">=T", ">T",
// "<=T", "<T" or "A..B", with RFC 3339 times or dates.
func createdMatches(filter string, t time.Time) (bool, error) {
	parse := func(s string) (time.Time, error) {
		if v, err := time.Parse(time.RFC3339, s); err == nil {
			return v, nil
		}
		return time.Parse(time.DateOnly, s)
	}
	if a, b, ok := strings.Cut(filter, ".."); ok {
		ta, err1 := parse(a)
		tb, err2 := parse(b)
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("bad created filter %q", filter)
		}
		return !t.Before(ta) && !t.After(tb), nil
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if v, ok := strings.CutPrefix(filter, op); ok {
			tv, err := parse(v)
			if err != nil {
				return false, fmt.Errorf("bad created filter %q", filter)
			}
			switch op {
			case ">=":
				return !t.Before(tv), nil
			case "<=":
				return !t.After(tv), nil
			case ">":
				return t.After(tv), nil
			default:
				return t.Before(tv), nil
			}
		}
	}
	tv, err := parse(filter)
	if err != nil {
		return false, fmt.Errorf("bad created filter %q", filter)
	}
	return t.Equal(tv), nil
}

// listWorkflowRuns lists the visible runs of a workflow newest first,
// filtered by branch, event, status and created.
func (f *Fake) listWorkflowRuns(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	wf := f.workflowOf(rp, r.PathValue("workflow"))
	if wf == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	q := r.URL.Query()
	out := []map[string]any{}
	runs := f.depsOf(rp).runs
	for i := len(runs) - 1; i >= 0; i-- {
		rr := runs[i]
		if rr.workflow != wf || f.now().Before(rr.visible) {
			continue
		}
		if (q.Has("branch") && q.Get("branch") != rr.HeadBranch) || (q.Has("event") && q.Get("event") != rr.Event) {
			continue
		}
		if st := q.Get("status"); st != "" && st != rr.Status && !(rr.Status == "completed" && st == rr.Conclusion) {
			continue
		}
		if c := q.Get("created"); c != "" {
			ok, err := createdMatches(c, rr.CreatedAt)
			if err != nil {
				validation(w, fieldError{Resource: "WorkflowRun", Field: "created", Code: "invalid", Message: err.Error()})
				return
			}
			if !ok {
				continue
			}
		}
		out = append(out, f.runJSON(rp, rr))
	}
	total := len(out)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": total, "workflow_runs": page(f, w, r, out)})
}

var inputExpr = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)

// dispatchWorkflow creates a queued workflow_dispatch run and answers 204
// without saying which, as GitHub does.
func (f *Fake) dispatchWorkflow(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	wf := f.workflowOf(rp, r.PathValue("workflow"))
	if wf == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var in struct {
		Ref    *string        `json:"ref"`
		Inputs map[string]any `json:"inputs"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Ref == nil || *in.Ref == "" {
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	}
	sha, ok := rp.resolve(*in.Ref)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, "No ref found for: "+*in.Ref)
		return
	}
	if len(in.Inputs) > 25 {
		writeError(w, http.StatusUnprocessableEntity, "you may only define up to 25 `inputs` for a `workflow_dispatch` event")
		return
	}
	inputs := map[string]string{}
	var unexpected []string
	for k, v := range in.Inputs {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		inputs[k] = s
		if wf.Inputs != nil && !slices.Contains(wf.Inputs, k) {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Unexpected inputs provided: %q", unexpected))
		return
	}
	title := wf.Name
	if wf.RunName != "" {
		title = inputExpr.ReplaceAllStringFunc(wf.RunName, func(m string) string {
			return inputs[inputExpr.FindStringSubmatch(m)[1]]
		})
	}
	now := f.now()
	branch := strings.TrimPrefix(strings.TrimPrefix(*in.Ref, "refs/"), "heads/")
	f.addRun(rp, wf, WorkflowRun{
		DisplayTitle: title, Event: "workflow_dispatch", HeadBranch: branch, HeadSHA: sha,
		Status: "queued", Actor: Login, CreatedAt: now, UpdatedAt: now, Inputs: inputs,
	}, now.Add(f.deploys.runDelay))
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) runOf(w http.ResponseWriter, r *http.Request) (*repo, *run) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, rr := range f.depsOf(rp).runs {
		if rr.ID == id {
			return rp, rr
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return nil, nil
}

func (f *Fake) getWorkflowRun(w http.ResponseWriter, r *http.Request) {
	if rp, rr := f.runOf(w, r); rr != nil {
		writeJSON(w, http.StatusOK, f.runJSON(rp, rr))
	}
}

// listRunJobs lists one job per run, named after the failed job when there
// is one, with the failed step.
func (f *Fake) listRunJobs(w http.ResponseWriter, r *http.Request) {
	rp, rr := f.runOf(w, r)
	if rr == nil {
		return
	}
	name, conclusion := "deploy", any(nil)
	if rr.Status == "completed" {
		conclusion = rr.Conclusion
	}
	if rr.FailedJob != "" {
		name = rr.FailedJob
	}
	steps := []map[string]any{{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1}}
	if rr.FailedStep != "" {
		steps = append(steps, map[string]any{"name": rr.FailedStep, "status": "completed", "conclusion": "failure", "number": 2})
	}
	job := map[string]any{
		"id": rr.ID*10 + 1, "run_id": rr.ID, "name": name, "status": rr.Status, "conclusion": conclusion,
		"head_sha": rr.HeadSHA, "html_url": fmt.Sprintf("%s/job/%d", rr.URL, rr.ID*10+1), "steps": steps,
		"url": f.apiURL(rp, fmt.Sprintf("actions/jobs/%d", rr.ID*10+1)),
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": 1, "jobs": []any{job}})
}
