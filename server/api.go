package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// API list limits.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// api wraps a JSON API handler: it checks the bearer token and turns the
// handler's error into a reply with WriteError.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.APIToken == "" || s.opts.Incidents == nil {
			WriteError(w, r, &StatusError{Code: http.StatusNotFound,
				Msg: "the incidents API is off; set an API token in Warroom's configuration to turn it on"})
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="warroom"`)
			WriteError(w, r, &StatusError{Code: http.StatusUnauthorized,
				Msg: "missing or wrong API token; send Authorization: Bearer <token>"})
			return
		}
		if err := h(w, r); err != nil {
			WriteError(w, r, err)
		}
	})
}

// authorized checks the request's bearer token against the API token.
func (s *Server) authorized(r *http.Request) bool { return s.apiToken.Bearer(r) }

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status, err := incidents.ParseStatusFilter(strings.ToLower(strings.TrimSpace(q.Get("status"))))
	if err != nil {
		return err
	}
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return &incidents.ValidationError{Field: "limit",
				Msg: fmt.Sprintf("limit must be a whole number from 1 to %d", maxListLimit)}
		}
		limit = n
	}
	list, err := s.opts.Incidents.Incidents(r.Context(), incidents.ListFilter{
		Status:  status,
		Service: strings.TrimSpace(q.Get("service")),
		Limit:   limit,
	})
	if err != nil {
		return fmt.Errorf("listing incidents: %w", err)
	}
	now := s.opts.Now()
	out := incidentListJSON{Incidents: make([]incidentJSON, 0, len(list)), Count: len(list)}
	for _, inc := range list {
		out.Incidents = append(out.Incidents, s.incidentJSON(inc, now))
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := incidents.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	inc, err := s.opts.Incidents.Incident(r.Context(), id)
	if err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	out := s.incidentJSON(inc, s.opts.Now())
	if err := s.followups(r.Context(), id, &out); err != nil {
		return fmt.Errorf("reading the follow-ups of %s: %w", id, err)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := incidents.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	// The timeline of an unknown incident is empty, not missing: ask first.
	if _, err := s.opts.Incidents.Incident(r.Context(), id); err != nil {
		return fmt.Errorf("reading %s: %w", id, err)
	}
	events, err := s.opts.Incidents.Timeline(r.Context(), id)
	if err != nil {
		return fmt.Errorf("reading the timeline of %s: %w", id, err)
	}
	out := timelineJSON{Incident: id.String(), Events: make([]eventJSON, 0, len(events))}
	for _, ev := range events {
		data := ev.Data
		if data == nil {
			data = map[string]any{}
		}
		out.Events = append(out.Events, eventJSON{
			ID:    ev.ID,
			At:    formatTime(ev.At),
			Kind:  string(ev.Kind),
			Actor: string(ev.Actor),
			Text:  ev.Text,
			Data:  data,
		})
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// The API's JSON shapes; the package comment documents them.

type incidentJSON struct {
	ID              string            `json:"id"`
	Number          int64             `json:"number"`
	Title           string            `json:"title"`
	Severity        string            `json:"severity"`
	Status          string            `json:"status"`
	Service         string            `json:"service"`
	Description     string            `json:"description"`
	Summary         string            `json:"summary"`
	DeclaredBy      string            `json:"declared_by"`
	Roles           map[string]string `json:"roles"`
	Channel         *channelJSON      `json:"channel"`
	DetectedAt      *string           `json:"detected_at"`
	DeclaredAt      *string           `json:"declared_at"`
	AcknowledgedAt  *string           `json:"acknowledged_at"`
	MitigatedAt     *string           `json:"mitigated_at"`
	ResolvedAt      *string           `json:"resolved_at"`
	DurationSeconds int64             `json:"duration_seconds"`
	URL             string            `json:"url,omitempty"`
	// Postmortem and ActionItems are only in GET /api/incidents/{id}.
	Postmortem  *postmortemJSON   `json:"postmortem,omitempty"`
	ActionItems *[]actionItemJSON `json:"action_items,omitempty"`
}

type channelJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type incidentListJSON struct {
	Incidents []incidentJSON `json:"incidents"`
	Count     int            `json:"count"`
}

type timelineJSON struct {
	Incident string      `json:"incident"`
	Events   []eventJSON `json:"events"`
}

type eventJSON struct {
	ID    int64          `json:"id"`
	At    *string        `json:"at"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Text  string         `json:"text"`
	Data  map[string]any `json:"data"`
}

func (s *Server) incidentJSON(inc *incidents.Incident, now time.Time) incidentJSON {
	roles := make(map[string]string, len(inc.Roles))
	for role, person := range inc.Roles {
		if person != "" {
			roles[string(role)] = person
		}
	}
	var ch *channelJSON
	if inc.ChannelID != "" {
		ch = &channelJSON{ID: inc.ChannelID, Name: inc.ChannelName}
	}
	out := incidentJSON{
		ID:              inc.ID.String(),
		Number:          int64(inc.ID),
		Title:           inc.Title,
		Severity:        string(inc.Severity),
		Status:          string(inc.Status),
		Service:         inc.Service,
		Description:     inc.Description,
		Summary:         inc.Summary,
		DeclaredBy:      string(inc.DeclaredBy),
		Roles:           roles,
		Channel:         ch,
		DetectedAt:      formatTime(inc.DetectedAt),
		DeclaredAt:      formatTime(inc.DeclaredAt),
		AcknowledgedAt:  formatTime(inc.AcknowledgedAt),
		MitigatedAt:     formatTime(inc.MitigatedAt),
		ResolvedAt:      formatTime(inc.ResolvedAt),
		DurationSeconds: int64(inc.Duration(now) / time.Second),
	}
	if s.opts.PublicURL != "" {
		out.URL = s.opts.PublicURL + "/api/incidents/" + strconv.FormatInt(int64(inc.ID), 10)
	}
	return out
}

// formatTime is RFC 3339 in UTC with whole seconds, or nil for the zero time.
func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Format(time.RFC3339)
	return &v
}
