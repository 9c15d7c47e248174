package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/warroomhq/warroom/incidents"
)

// AlertReader is what the API reads about an incident's alerts;
// incidents.AlertStore has it.
type AlertReader interface {
	IncidentAlertCounts(ctx context.Context, id incidents.ID, names int) (incidents.AlertCounts, error)
	IncidentAlerts(ctx context.Context, id incidents.ID, limit int) ([]incidents.StoredAlert, error)
	AlertHistory(ctx context.Context, alertID int64, limit int) ([]incidents.AlertChange, error)
}

// Alert list limits.
const (
	defaultAlertLimit = 100
	maxAlertLimit     = 1000
	// maxAlertHistory is how many of an alert's last changes are shown.
	maxAlertHistory = 20
)

type alertListJSON struct {
	Incident string      `json:"incident"`
	Firing   int         `json:"firing"`
	Resolved int         `json:"resolved"`
	Alerts   []alertJSON `json:"alerts"`
}

type alertJSON struct {
	Source       string            `json:"source"`
	Fingerprint  string            `json:"fingerprint"`
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity"`
	Service      string            `json:"service"`
	Title        string            `json:"title"`
	Description  string            `json:"description"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     *string           `json:"starts_at"`
	EndsAt       *string           `json:"ends_at"`
	GeneratorURL string            `json:"generator_url"`
	RunbookURL   string            `json:"runbook_url"`
	Links        []incidents.Link  `json:"links"`
	FirstSeen    *string           `json:"first_seen"`
	LastSeen     *string           `json:"last_seen"`
	Received     int               `json:"received"`
	History      []alertChangeJSON `json:"history"`
}

type alertChangeJSON struct {
	At     *string `json:"at"`
	Status string  `json:"status"`
}

// getAlerts lists an incident's alerts, firing first, each with its
// history of state changes.
func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return &StatusError{Code: http.StatusNotFound, Msg: "alerts are not available in this Warroom"}
	}
	id, err := incidents.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	limit := defaultAlertLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAlertLimit {
			return &StatusError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("limit must be a number from 1 to %d", maxAlertLimit)}
		}
		limit = n
	}
	ctx := r.Context()
	if _, err := s.opts.Incidents.Incident(ctx, id); err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	counts, err := s.opts.Alerts.IncidentAlertCounts(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("counting the alerts of %s: %w", id, err)
	}
	alerts, err := s.opts.Alerts.IncidentAlerts(ctx, id, limit)
	if err != nil {
		return fmt.Errorf("reading the alerts of %s: %w", id, err)
	}
	out := alertListJSON{Incident: id.String(), Firing: counts.Firing, Resolved: counts.Resolved, Alerts: make([]alertJSON, 0, len(alerts))}
	for _, a := range alerts {
		hist, err := s.opts.Alerts.AlertHistory(ctx, a.ID, maxAlertHistory)
		if err != nil {
			return fmt.Errorf("reading the history of alert %d: %w", a.ID, err)
		}
		aj := alertJSON{
			Source: a.Source, Fingerprint: a.Fingerprint, Name: a.Name(), Status: string(a.Status),
			Severity: string(a.Severity), Service: a.Service, Title: a.Title, Description: a.Description,
			Labels: orEmpty(a.Labels), Annotations: orEmpty(a.Annotations),
			StartsAt: formatTime(a.StartsAt), EndsAt: formatTime(a.EndsAt),
			GeneratorURL: a.GeneratorURL, RunbookURL: a.RunbookURL, Links: a.Links,
			FirstSeen: formatTime(a.FirstSeen), LastSeen: formatTime(a.LastSeen), Received: a.Received,
			History: make([]alertChangeJSON, 0, len(hist)),
		}
		if aj.Links == nil {
			aj.Links = []incidents.Link{}
		}
		for _, h := range hist {
			aj.History = append(aj.History, alertChangeJSON{At: formatTime(h.At), Status: string(h.Status)})
		}
		out.Alerts = append(out.Alerts, aj)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
