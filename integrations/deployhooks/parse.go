package deployhooks

import (
	"errors"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/deploywebhook"
)

// Event is the body of POST /hooks/deploy.
type Event struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
	ID          string `json:"id"`
	Ref         string `json:"ref"`
	SHA         string `json:"sha"`
	Status      string `json:"status"`
	URL         string `json:"url"`
	Creator     string `json:"creator"`
	Description string `json:"description"`
	StartedAt   string `json:"started_at"`
	FinishedAt  string `json:"finished_at"`
	Rollback    bool   `json:"rollback"`
}

// ParseDeploy reads the body of POST /hooks/deploy: a JSON object
//
//	{"service": "checkout", "environment": "production", "id": "deploy-981",
//	 "ref": "v1.4.2", "sha": "9f2c...", "status": "success",
//	 "url": "https://ci.example.com/deploys/981", "creator": "argocd",
//	 "description": "Release 1.4.2", "started_at": "2026-11-21T09:40:00Z",
//	 "finished_at": "2026-11-21T09:43:10Z", "rollback": false}
//
// service, status and one of ref and sha are required; status is one of
// deploywebhook.ParseStatus's words; times are RFC 3339 and may be absent
// (zero: unknown); url is an absolute http(s) URL. id identifies the
// deploy at the sender: reporting the same id again (a later status, a
// retry) updates the same deploy. Without id, the deploy is identified by
// environment and version, "<environment>@<sha, else ref>". The deploy's
// ExternalID is "<service>/<id>", so that two services' tools may use the
// same IDs. Unknown fields are ignored. Errors name the field.
func ParseDeploy(body []byte) (deploys.Deploy, error) {
	var e Event
	if err := deploywebhook.Unmarshal(body, &e); err != nil {
		return deploys.Deploy{}, err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"service", e.Service, true}, {"environment", e.Environment, false}, {"id", e.ID, false},
		{"ref", e.Ref, false}, {"sha", e.SHA, false}, {"creator", e.Creator, false},
	} {
		if err := deploywebhook.CheckID(f.name, f.v, f.required); err != nil {
			return deploys.Deploy{}, err
		}
	}
	if e.Ref == "" && e.SHA == "" {
		return deploys.Deploy{}, errors.New("ref: missing (send ref, sha or both)")
	}
	if e.Status == "" {
		return deploys.Deploy{}, errors.New("status: missing")
	}
	st, ok := deploywebhook.ParseStatus(e.Status)
	if !ok {
		return deploys.Deploy{}, fmt.Errorf("status: %q is not one of pending, running, success, failed, inactive, canceled", e.Status)
	}
	if err := deploywebhook.CheckURL("url", e.URL); err != nil {
		return deploys.Deploy{}, err
	}
	if len(e.Description) > deploywebhook.MaxMessageLength {
		return deploys.Deploy{}, fmt.Errorf("description: longer than %d bytes", deploywebhook.MaxMessageLength)
	}
	started, err := parseTime("started_at", e.StartedAt)
	if err != nil {
		return deploys.Deploy{}, err
	}
	finished, err := parseTime("finished_at", e.FinishedAt)
	if err != nil {
		return deploys.Deploy{}, err
	}
	if !started.IsZero() && !finished.IsZero() && finished.Before(started) {
		return deploys.Deploy{}, errors.New("finished_at: before started_at")
	}
	id := e.ID
	if id == "" {
		id = e.Environment + "@" + e.SHA
		if e.SHA == "" {
			id = e.Environment + "@" + e.Ref
		}
	}
	return deploys.Deploy{
		Service:     e.Service,
		Environment: e.Environment,
		Source:      deploys.SourceWebhook,
		ExternalID:  e.Service + "/" + id,
		Ref:         e.Ref,
		SHA:         e.SHA,
		Status:      st,
		Creator:     e.Creator,
		Description: e.Description,
		URL:         e.URL,
		StartedAt:   started,
		FinishedAt:  finished,
		Rollback:    e.Rollback,
	}, nil
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-11-21T09:40:00Z", field, v)
	}
	return t.UTC(), nil
}
