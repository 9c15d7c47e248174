package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/jobs"
)

// What a token needs to read and to create deployments.
const (
	deploymentsRead  = "deployments: read"
	deploymentsWrite = "deployments: write"
)

// RollbackPayloadKey is the field of a deployment's payload that holds the
// key (deploys.RollbackRequest.Key) of the Warroom rollback it carries out.
// A deployment with it is a rollback, and a retried rollback finds its
// deployment by it.
const RollbackPayloadKey = "warroom_rollback_key"

// MaxRecent is the most deploys Recent returns: each GitHub deployment
// costs one more call for its statuses.
const MaxRecent = 50

// statusesPerDeployment is how many statuses of a deployment are read:
// the latest says where it is, an earlier success when it went live.
const statusesPerDeployment = 10

// WithClock returns a copy of c that reads the time from now (when a
// dispatched workflow run is overdue, rate-limit delays without a Date).
func (c *Client) WithClock(now func() time.Time) *Client {
	c2 := *c
	c2.now = now
	return &c2
}

// DeploymentsProvider reads the GitHub deployments of repo ("owner/name")
// to environment, newest first, each with its latest status:
//
//	success → success, inactive → inactive (replaced by a later deploy),
//	failure and error → failed, in_progress → running,
//	queued and pending (and no status yet) → pending.
//
// StartedAt is when the deployment was created; FinishedAt, for a finished
// one, when it succeeded or failed (an inactive deployment keeps the time
// of its success). URL is the log_url, else the environment_url, else the
// target_url of its newest status that has one. A deployment whose payload
// holds RollbackPayloadKey, or whose description is Warroom's ("Rollback
// to ... (Warroom)"), is a Rollback. ExternalID is the deployment's ID, as
// in the deployment_status webhook. Service is left empty for the caller.
//
// Recent makes 1 + n calls for n deployments (at most MaxRecent).
func (c *Client) DeploymentsProvider(repo, environment string) deploys.Provider {
	return &deploymentsProvider{c: c, repo: repo, env: environment}
}

type deploymentsProvider struct {
	c         *Client
	repo, env string
}

func (p *deploymentsProvider) Source() deploys.Source { return deploys.SourceGitHubDeployments }

func (p *deploymentsProvider) Recent(ctx context.Context, limit int) ([]deploys.Deploy, error) {
	owner, name, err := splitRepo(p.repo)
	if err != nil {
		return nil, jobs.Permanent(fmt.Errorf("github: reading deployments: %w", err))
	}
	limit = min(max(limit, 1), MaxRecent)
	what := fmt.Sprintf("github: listing deployments of %s to %s", p.repo, p.env)
	list, _, err := p.c.gh.Repositories.ListDeployments(ctx, owner, name, &gh.DeploymentsListOptions{
		Environment: p.env, ListOptions: gh.ListOptions{PerPage: limit},
	})
	if err != nil {
		return nil, p.c.jobError(err, p.repo, what, deploymentsRead)
	}
	out := make([]deploys.Deploy, 0, min(len(list), limit))
	for _, d := range list[:min(len(list), limit)] {
		statuses, err := p.c.deploymentStatuses(ctx, owner, name, p.repo, d.GetID(), statusesPerDeployment)
		if err != nil {
			return nil, err
		}
		out = append(out, DeployFromDeployment(d, statuses))
	}
	return out, nil
}

func (c *Client) deploymentStatuses(ctx context.Context, owner, name, repo string, id int64, n int) ([]*gh.DeploymentStatus, error) {
	statuses, _, err := c.gh.Repositories.ListDeploymentStatuses(ctx, owner, name, id, &gh.ListOptions{PerPage: n})
	if err != nil {
		return nil, c.jobError(err, repo, fmt.Sprintf("github: reading the statuses of deployment %d in %s", id, repo), deploymentsRead)
	}
	return statuses, nil
}

// DeployFromDeployment converts a GitHub deployment and its statuses,
// newest first as GitHub lists them, to a deploy (see DeploymentsProvider).
func DeployFromDeployment(d *gh.Deployment, statuses []*gh.DeploymentStatus) deploys.Deploy {
	out := deploys.Deploy{
		Environment: d.GetEnvironment(),
		Source:      deploys.SourceGitHubDeployments,
		ExternalID:  strconv.FormatInt(d.GetID(), 10),
		Ref:         d.GetRef(),
		SHA:         d.GetSHA(),
		Status:      deploys.StatusPending,
		Creator:     d.GetCreator().GetLogin(),
		Description: d.GetDescription(),
		StartedAt:   d.GetCreatedAt().Time,
		Rollback:    IsWarroomRollback(d.Payload, d.GetDescription()),
	}
	if len(statuses) > 0 {
		out.Status = DeploymentState(statuses[0].GetState())
	}
	for _, s := range statuses {
		if out.URL == "" {
			out.URL = firstNonEmpty(s.GetLogURL(), s.GetEnvironmentURL(), s.GetTargetURL())
		}
		if out.Status.Done() && out.FinishedAt.IsZero() {
			switch s.GetState() {
			case "success", "failure", "error":
				out.FinishedAt = s.GetCreatedAt().Time
			}
		}
	}
	if out.FinishedAt.IsZero() && (out.Status == deploys.StatusFailed || out.Status == deploys.StatusSuccess) {
		out.FinishedAt = statuses[0].GetCreatedAt().Time
	}
	return out
}

// DeploymentState maps a GitHub deployment status's state to a Status.
func DeploymentState(state string) deploys.Status {
	switch state {
	case "success":
		return deploys.StatusSuccess
	case "inactive":
		return deploys.StatusInactive
	case "failure", "error":
		return deploys.StatusFailed
	case "in_progress":
		return deploys.StatusRunning
	case "queued", "pending":
		return deploys.StatusPending
	}
	return deploys.StatusUnknown
}

// IsWarroomRollback reports whether a deployment with payload and
// description is a rollback that Warroom made: its payload has
// RollbackPayloadKey, or its description is "Rollback to ... (Warroom)".
func IsWarroomRollback(payload json.RawMessage, description string) bool {
	return RollbackKeyOf(payload) != "" ||
		strings.HasPrefix(description, "Rollback to ") && strings.HasSuffix(description, "(Warroom)")
}

// RollbackKeyOf returns the RollbackPayloadKey of a deployment's payload,
// or "". GitHub keeps a payload as it was sent: a JSON object, or a string
// that holds one.
func RollbackKeyOf(payload json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		var s string
		if json.Unmarshal(payload, &s) != nil || json.Unmarshal([]byte(s), &m) != nil {
			return ""
		}
	}
	k, _ := m[RollbackPayloadKey].(string)
	return k
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// maxDescription is GitHub's limit on a deployment's description.
const maxDescription = 140

// RollbackDescription is the description of a rollback deployment:
// "Rollback to <ref> for INC-<id> (Warroom)", the ref shortened to fit
// GitHub's 140 characters.
func RollbackDescription(req deploys.RollbackRequest) string {
	ref := firstNonEmpty(req.To.Ref, shortSHA(req.To.SHA))
	tail := " for " + req.Incident.String() + " (Warroom)"
	if room := maxDescription - len("Rollback to ") - len(tail); len(ref) > room {
		ref = ref[:max(room-1, 0)] + "…"
	}
	return "Rollback to " + ref + tail
}

func shortSHA(sha string) string { return sha[:min(len(sha), 7)] }

// DeploymentRollbacker rolls back by creating a new GitHub deployment of
// req.To.SHA (or req.To.Ref when the SHA is unknown) to environment, with
// auto_merge false (deploy exactly that commit), required_contexts []
// (a rollback does not wait for the checks of an old commit), the
// description "Rollback to <ref> for INC-<id> (Warroom)" and the payload
//
//	{"warroom_rollback_key": "<key>", "incident": "INC-42",
//	 "from": {"ref": ..., "sha": ...}, "to": {"ref": ..., "sha": ...}, "requested_by": "..."}
//
// The deploy tool that listens for deployment events does the rollback and
// reports its statuses. Start first looks for a deployment of the same ref
// to environment with the key in its payload, so that a retry after a lost
// answer finds the deployment instead of making a second one. Progress
// reads the deployment's newest status. The token needs deployments: write.
func (c *Client) DeploymentRollbacker(repo, environment string) deploys.Rollbacker {
	return &deploymentRollbacker{c: c, repo: repo, env: environment}
}

type deploymentRollbacker struct {
	c         *Client
	repo, env string
}

func (r *deploymentRollbacker) Mechanism() deploys.Mechanism {
	return deploys.MechanismGitHubDeployment
}

// rollbackPages bounds the search for an earlier rollback deployment.
const rollbackPages = 3

func (r *deploymentRollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	owner, name, err := splitRepo(r.repo)
	ref := firstNonEmpty(req.To.SHA, req.To.Ref)
	switch {
	case err != nil:
	case req.Key == "":
		err = errors.New("the rollback has no key")
	case ref == "":
		err = errors.New("the rollback has no target ref or SHA")
	}
	if err != nil {
		return deploys.Handle{}, jobs.Permanent(fmt.Errorf("github: rolling back: %w", err))
	}

	what := fmt.Sprintf("github: looking for rollback %s among the deployments of %s to %s", req.Key, r.repo, r.env)
	opts := &gh.DeploymentsListOptions{Ref: ref, Environment: r.env, ListOptions: gh.ListOptions{PerPage: 100}}
	for range rollbackPages {
		list, resp, err := r.c.gh.Repositories.ListDeployments(ctx, owner, name, opts)
		if err != nil {
			return deploys.Handle{}, r.c.jobError(err, r.repo, what, deploymentsRead)
		}
		for _, d := range list {
			if RollbackKeyOf(d.Payload) == req.Key {
				return r.handle(d), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}

	d, _, err := r.c.gh.Repositories.CreateDeployment(ctx, owner, name, &gh.DeploymentRequest{
		Ref:              gh.String(ref),
		Environment:      gh.String(r.env),
		AutoMerge:        gh.Bool(false),
		RequiredContexts: &[]string{},
		Description:      gh.String(RollbackDescription(req)),
		Payload:          rollbackPayload(req),
	})
	if err != nil {
		return deploys.Handle{}, r.c.jobError(err, r.repo,
			fmt.Sprintf("github: creating the rollback deployment of %s to %s in %s", ref, r.env, r.repo), deploymentsWrite)
	}
	return r.handle(d), nil
}

func rollbackPayload(req deploys.RollbackRequest) map[string]any {
	return map[string]any{
		RollbackPayloadKey: req.Key,
		"incident":         req.Incident.String(),
		"from":             map[string]string{"ref": req.From.Ref, "sha": req.From.SHA},
		"to":               map[string]string{"ref": req.To.Ref, "sha": req.To.SHA},
		"requested_by":     string(req.RequestedBy),
	}
}

func (r *deploymentRollbacker) handle(d *gh.Deployment) deploys.Handle {
	return deploys.Handle{ExternalID: strconv.FormatInt(d.GetID(), 10), URL: r.c.environmentURL(r.repo, r.env)}
}

func (r *deploymentRollbacker) Progress(ctx context.Context, req deploys.RollbackRequest, h deploys.Handle) (deploys.Progress, error) {
	owner, name, err := splitRepo(r.repo)
	if err != nil {
		return deploys.Progress{}, jobs.Permanent(fmt.Errorf("github: following a rollback: %w", err))
	}
	id, err := strconv.ParseInt(h.ExternalID, 10, 64)
	if err != nil {
		return deploys.Progress{}, jobs.Permanent(fmt.Errorf("github: following rollback %s: deployment ID %q is not a number", req.Key, h.ExternalID))
	}
	statuses, err := r.c.deploymentStatuses(ctx, owner, name, r.repo, id, statusesPerDeployment)
	if err != nil {
		return deploys.Progress{}, err
	}
	d := DeployFromDeployment(&gh.Deployment{ID: gh.Int64(id)}, statuses)
	p := deploys.Progress{Status: d.Status, URL: firstNonEmpty(d.URL, h.URL)}
	target := firstNonEmpty(req.To.Ref, shortSHA(req.To.SHA))
	var desc string
	if len(statuses) > 0 {
		desc = statuses[0].GetDescription()
	}
	switch d.Status {
	case deploys.StatusPending:
		p.Message = fmt.Sprintf("GitHub deployment %d of %s to %s is waiting for the deploy tool", id, target, r.env)
		if len(statuses) == 0 {
			p.Message += " (no status yet)"
		}
	case deploys.StatusRunning:
		p.Message = fmt.Sprintf("deploying %s to %s", target, r.env)
	case deploys.StatusSuccess, deploys.StatusInactive:
		p.Message = fmt.Sprintf("%s is live on %s", target, r.env)
	case deploys.StatusFailed:
		p.Message = fmt.Sprintf("GitHub deployment %d of %s to %s failed (%s)", id, target, r.env, statuses[0].GetState())
	default:
		p.Message = fmt.Sprintf("GitHub deployment %d of %s to %s: status %q", id, target, r.env, statuses[0].GetState())
	}
	if desc != "" {
		p.Message += ": " + desc
	}
	if d.Status == deploys.StatusFailed && p.URL != "" {
		p.Message += "; see " + p.URL
	}
	return p, nil
}

// webURL is the web address of GitHub's pages: https://github.com for
// github.com, the server's root for GitHub Enterprise.
func (c *Client) webURL() string {
	u := *c.gh.BaseURL
	if strings.EqualFold(u.Host, "api.github.com") {
		return "https://github.com"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
	u.RawPath = ""
	return strings.TrimSuffix(u.String(), "/")
}

// environmentURL is the web page of repo's deployments to env.
func (c *Client) environmentURL(repo, env string) string {
	return c.webURL() + "/" + repo + "/deployments/" + url.PathEscape(env)
}
