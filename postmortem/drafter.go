package postmortem

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/templates"
)

// MaxDraftAlerts is how many of an incident's alerts a Drafter lists.
const MaxDraftAlerts = 1000

// Source is the record a draft is written from; the SQLite store has it.
type Source interface {
	// Incident returns one incident, or an error wrapping
	// incidents.ErrNotFound.
	Incident(ctx context.Context, id incidents.ID) (*incidents.Incident, error)
	// Timeline lists an incident's events in the order they happened.
	Timeline(ctx context.Context, id incidents.ID) ([]incidents.Event, error)
	// IncidentAlerts lists up to limit of an incident's alerts.
	IncidentAlerts(ctx context.Context, id incidents.ID, limit int) ([]incidents.StoredAlert, error)
	// DeploysBefore lists up to limit of a service's stored deploys that
	// finished before t, the last started first (the deploys that
	// outside systems reported to Warroom: package deploys keeps them).
	DeploysBefore(ctx context.Context, service string, t time.Time, limit int) ([]deploys.Deploy, error)
	// DeploySnapshots lists the deploys that the services' providers
	// (GitHub) listed when the incident was declared, with their statuses
	// as they were then (package deploys keeps them).
	DeploySnapshots(ctx context.Context, id incidents.ID) ([]deploys.Deploy, error)
}

// Drafter writes incidents' drafts from a Source: the server's
// /api/incidents/{id}/postmortem and warroom postmortem use it.
type Drafter struct {
	Source    Source
	Templates *templates.Set
	// Location is the team's time zone; nil means UTC.
	Location *time.Location
	// Now is the clock for open incidents' durations; nil means time.Now.
	Now func() time.Time
	// Names maps Slack user IDs to people's names (config's people), so
	// that drafts name people rather than IDs. Optional.
	Names map[string]string
	// Items, when set, gives the issues filed for action items, which the
	// draft links. Optional.
	Items ItemSource
}

// ItemSource lists an incident's tracked action items; Store has it.
type ItemSource interface {
	IncidentActionItems(ctx context.Context, id incidents.ID) ([]TrackedItem, error)
}

// LoadTemplates returns the built-in templates, with the postmortem
// template replaced by the file at path when path is not empty (config's
// postmortem.template).
func LoadTemplates(path string) (*templates.Set, error) {
	set, err := templates.New("")
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := set.ReplaceFile(TemplateName, path); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Draft reads incident id and renders its draft as Markdown. An unknown
// incident is an error wrapping incidents.ErrNotFound.
func (d *Drafter) Draft(ctx context.Context, id incidents.ID) ([]byte, error) {
	draft, err := d.Build(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.Render(draft)
}

// Build reads incident id and gathers its draft.
func (d *Drafter) Build(ctx context.Context, id incidents.ID) (*Draft, error) {
	inc, err := d.Source.Incident(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", id, err)
	}
	events, err := d.Source.Timeline(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the timeline of %s: %w", id, err)
	}
	alerts, err := d.Source.IncidentAlerts(ctx, id, MaxDraftAlerts)
	if err != nil {
		return nil, fmt.Errorf("reading the alerts of %s: %w", id, err)
	}
	opts := DraftOptions{Location: d.Location, Now: d.now(), Names: d.Names}
	if detected := detectedAt(inc); !detected.IsZero() {
		// The snapshot first: for a deploy also stored, its status at
		// declaration is the one kept.
		snap, err := d.Source.DeploySnapshots(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading the deploys shown for %s: %w", id, err)
		}
		opts.DeploysBefore = append(opts.DeploysBefore, snap...)
		for _, service := range draftServices(inc, alerts) {
			ds, err := d.Source.DeploysBefore(ctx, service, detected, deployCandidates)
			if err != nil {
				return nil, fmt.Errorf("reading the deploys of %s before %s: %w", service, id, err)
			}
			opts.DeploysBefore = append(opts.DeploysBefore, ds...)
		}
	}
	if d.Items != nil {
		items, err := d.Items.IncidentActionItems(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading the action items of %s: %w", id, err)
		}
		for _, it := range items {
			if it.IssueURL != "" {
				if opts.IssueLinks == nil {
					opts.IssueLinks = map[string]string{}
				}
				opts.IssueLinks[it.Text] = it.IssueURL
			}
		}
	}
	return NewDraft(inc, events, alerts, opts), nil
}

// Render writes draft with the Drafter's templates.
func (d *Drafter) Render(draft *Draft) ([]byte, error) {
	var b bytes.Buffer
	if err := draft.Render(d.Templates, &b); err != nil {
		return nil, fmt.Errorf("writing the draft of %s: %w", draft.Incident.ID, err)
	}
	return b.Bytes(), nil
}

func (d *Drafter) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Drafter) location() *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.UTC
}
