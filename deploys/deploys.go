// Package deploys is the domain of deploys and rollbacks: what was deployed
// where and when, how to read a service's recent deploys from the systems
// that make them, and how to roll a service back and follow the rollback.
//
// Like package incidents it imports no vendor API. It defines the interfaces
// it needs (Provider, Rollbacker); GitHub Deployments, GitHub Actions and the
// generic deploy webhook implement them in integrations/, and convert their
// payloads to the types here at the edge.
package deploys

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// Status is where a deploy (or a rollback) is.
type Status string

// The statuses of a deploy. Providers map their own vocabulary onto these
// (GitHub's "in_progress" and "queued" are StatusRunning, "error" and
// "failure" are StatusFailed).
const (
	StatusPending  Status = "pending"  // asked for, not started
	StatusRunning  Status = "running"  // in progress
	StatusSuccess  Status = "success"  // live
	StatusFailed   Status = "failed"   // did not go live
	StatusInactive Status = "inactive" // was live, replaced by a later deploy
	StatusCanceled Status = "canceled"
	StatusUnknown  Status = "unknown"
)

// Done reports whether the status is final.
func (s Status) Done() bool {
	switch s {
	case StatusSuccess, StatusFailed, StatusInactive, StatusCanceled:
		return true
	}
	return false
}

// Source names where a deploy was learned from.
type Source string

// The sources of deploys.
const (
	SourceGitHubDeployments Source = "github_deployments"
	SourceGitHubActions     Source = "github_actions"
	SourceWebhook           Source = "webhook"
)

// Deploy is one deploy of a service to an environment.
type Deploy struct {
	// ID is the stored deploy's ID; 0 before it is stored.
	ID          int64
	Service     string
	Environment string
	Source      Source
	// ExternalID identifies the deploy at its source (a GitHub deployment
	// ID, a workflow run ID, the webhook sender's ID). Source and
	// ExternalID together identify a deploy: storing it again updates it.
	ExternalID  string
	Ref         string // branch, tag or version people recognise
	SHA         string // full commit SHA, when known
	Status      Status
	Creator     string // who or what started it (a GitHub login, a tool)
	Description string
	URL         string // where to look at it (a run, a deployment's log)
	StartedAt   time.Time
	FinishedAt  time.Time // zero until it is done
	// Rollback is true for a deploy that rolls back to an earlier version.
	Rollback bool
	// Attempt numbers the tries of one deploy that its source runs again
	// under the same ExternalID (GitHub's run_attempt of a re-run workflow
	// run); 0 when the source has none. A report of an earlier attempt than
	// the stored one is stale; a later attempt starts the deploy over.
	Attempt int
}

// Live reports whether the deploy went live (it is, or was until a later
// deploy replaced it).
func (d Deploy) Live() bool { return d.Status == StatusSuccess || d.Status == StatusInactive }

// Provider reads a service's recent deploys from one system. One Provider
// serves one service; it is built from that service's configuration.
type Provider interface {
	// Source says which system it reads.
	Source() Source
	// Recent returns up to limit deploys, newest first, with their latest
	// status.
	Recent(ctx context.Context, limit int) ([]Deploy, error)
}

// RollbackRequest asks a Rollbacker to roll a service back.
type RollbackRequest struct {
	// Key identifies the rollback. Starting the same rollback twice (a
	// retried job after a lost answer) must start it once: a Rollbacker
	// finds a rollback it already started by Key.
	Key      string
	Incident incidents.ID
	Service  string
	// From is what is live now; To is the deploy to go back to. To.Ref and
	// To.SHA say what to deploy.
	From Deploy
	To   Deploy
	// RequestedBy is who confirmed it.
	RequestedBy incidents.Actor
	// At is when it was confirmed; a Rollbacker that must find its own
	// earlier start (a workflow run) looks no further back than this.
	At time.Time
}

// Mechanism names how a rollback is done.
type Mechanism string

// The rollback mechanisms, as named in the configuration.
const (
	MechanismGitHubWorkflow   Mechanism = "github_workflow"
	MechanismGitHubDeployment Mechanism = "github_deployment"
	MechanismWebhook          Mechanism = "webhook"
)

// Handle is what a Rollbacker returns for a started rollback, to follow it.
// It is stored with the rollback, so it must be plain data.
type Handle struct {
	ExternalID string // a workflow run ID, a deployment ID, a webhook's ID
	URL        string // where people can watch it
	// Pending is true when the rollback was started but cannot be found
	// yet (a workflow run appears some seconds after its dispatch):
	// Progress is then asked again with the same Handle.
	Pending bool
}

// Progress is a rollback's state, as its Rollbacker sees it.
type Progress struct {
	Status  Status
	Message string // what failed, or what it is doing
	URL     string // where to look
	// Handle, when not empty, replaces the stored handle (a workflow run
	// found after a dispatch).
	Handle Handle
}

// Rollbacker rolls one service back through one mechanism. It is built
// from that service's rollback configuration.
type Rollbacker interface {
	// Mechanism says how it rolls back.
	Mechanism() Mechanism
	// Start starts the rollback, or finds the one it already started for
	// req.Key.
	Start(ctx context.Context, req RollbackRequest) (Handle, error)
	// Progress reports how the rollback started with h is going.
	Progress(ctx context.Context, req RollbackRequest, h Handle) (Progress, error)
}

// Recorder stores what outside systems report as it happens: deploys
// (POST /hooks/deploy, GitHub's deployment_status webhook) and the progress
// of rollbacks that a deploy tool carries out (its status callbacks). The
// inbound webhook adapters call it; the deploys service implements it.
type Recorder interface {
	// RecordDeploy stores d, or updates the deploy with the same Source and
	// ExternalID, and returns it as stored. Reporting the same deploy again
	// (a retried webhook) changes nothing.
	RecordDeploy(ctx context.Context, d Deploy) (Deploy, error)
	// RecordRollbackProgress records the progress of service's rollback
	// with key (RollbackRequest.Key), reported by the deploy tool of its
	// webhook mechanism; service is the one whose secret authenticated the
	// report. An unknown key, or the key of another service's rollback or
	// of a rollback through another mechanism, is an error wrapping
	// incidents.ErrNotFound.
	RecordRollbackProgress(ctx context.Context, service, key string, p Progress) error
}
