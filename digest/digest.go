// Package digest builds the weekly incident review: what happened in a
// period against the period before it, the agenda of the team's review. It
// reads through Source, which the SQLite store implements, and renders
// text, Markdown and JSON; the Slack adapter renders Block Kit.
//
// The report depends only on the standard library and the domain; the
// Scheduler runs the configured schedule with robfig/cron.
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
//
// An alert counts toward the incident it is attached to now (the last one
// its group declared or reopened for it): the store keeps no history of
// earlier attachments, so an alert that fired for two incidents of its
// group counts toward the later one.
type GroupActivity struct {
	Key       string         `json:"key"`
	Title     string         `json:"title"`
	Service   string         `json:"service"`
	Fired     int            `json:"fired"`     // changes to firing in the period
	Alerts    int            `json:"alerts"`    // distinct alerts that fired
	Incidents []incidents.ID `json:"incidents"` // incidents its alerts are attached to, ascending
}

// NameActivity is one alert name's firings in a period, across groups.
type NameActivity struct {
	Name      string `json:"name"`
	Fired     int    `json:"fired"`     // changes to firing in the period
	Incidents int    `json:"incidents"` // distinct incidents its alerts are attached to
}
