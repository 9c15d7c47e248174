// Package digest builds the weekly incident review: what happened in a
// period against the period before it, the agenda of the team's review. It
// reads through Source, which the SQLite store implements, and renders
// text, Markdown and JSON; the Slack adapter renders Block Kit.
//
// It depends only on the standard library and the domain.
package digest

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// Source is what the digest reads.
type Source interface {
	// IncidentsBetween returns every incident declared before to that was
	// declared at or after from, or resolved at or after from, or is still
	// open (the incidents a review of [from, to) talks about), oldest
	// declaration first.
	IncidentsBetween(ctx context.Context, from, to time.Time) ([]*incidents.Incident, error)
	// AlertActivity sums up the alert changes in [from, to).
	AlertActivity(ctx context.Context, from, to time.Time) (AlertActivity, error)
}

// AlertActivity is what alerts did in a period.
type AlertActivity struct {
	// Groups are the alert groups with at least one alert that fired in
	// the period, most firings first.
	Groups []GroupActivity
	// Names are alert names with at least one firing in the period, most
	// firings first.
	Names []NameActivity
}

// GroupActivity is one alert group's firings in a period.
type GroupActivity struct {
	Key       string
	Title     string
	Service   string
	Fired     int            // changes to firing in the period
	Alerts    int            // distinct alerts that fired
	Incidents []incidents.ID // incidents its alerts were attached to, ascending
}

// NameActivity is one alert name's firings in a period.
type NameActivity struct {
	Name      string
	Fired     int
	Incidents int // distinct incidents its alerts were attached to
}
