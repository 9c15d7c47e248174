package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/warroomhq/warroom/deploys"
)

// Deploys answers the deploy pipelines' and people's questions about a
// service's deploys; *deploys.Service has it.
type Deploys interface {
	// Frozen reports whether the service's deploys are frozen; an unknown
	// or empty service is an *incidents.ValidationError.
	Frozen(ctx context.Context, service string) (deploys.FreezeStatus, error)
	// Known lists the service's recent deploys, newest first, from what
	// Warroom stored and what its providers answered when last read; it
	// never calls a provider (GitHub), so a request never waits on one.
	Known(ctx context.Context, service string, limit int) (deploys.Recent, error)
}

type freezeJSON struct {
	Service   string            `json:"service"`
	Frozen    bool              `json:"frozen"`
	Incidents []freezeIncident  `json:"incidents"`
	Manual    *manualFreezeJSON `json:"manual"`
}

type freezeIncident struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Title    string `json:"title"`
	URL      string `json:"url,omitempty"`
}

type manualFreezeJSON struct {
	By     string  `json:"by"`
	Reason string  `json:"reason"`
	At     *string `json:"at"`
}

// getFreeze answers whether a service's deploys are frozen, for deploy
// pipelines to stop themselves: GET /api/freeze?service=checkout.
func (s *Server) getFreeze(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Deploys == nil {
		return &StatusError{Code: http.StatusNotFound, Msg: "deploy freezes are not available in this Warroom"}
	}
	service := strings.TrimSpace(r.URL.Query().Get("service"))
	if service == "" {
		return &StatusError{Code: http.StatusBadRequest, Msg: "say which service: /api/freeze?service=<name>"}
	}
	st, err := s.opts.Deploys.Frozen(r.Context(), service)
	if err != nil {
		return err
	}
	out := freezeJSON{Service: st.Service, Frozen: st.Frozen, Incidents: make([]freezeIncident, 0, len(st.Incidents))}
	for _, inc := range st.Incidents {
		fi := freezeIncident{ID: inc.ID.String(), Severity: string(inc.Severity), Status: string(inc.Status), Title: inc.Title}
		if s.opts.PublicURL != "" {
			fi.URL = s.opts.PublicURL + "/api/incidents/" + strconv.FormatInt(int64(inc.ID), 10)
		}
		out.Incidents = append(out.Incidents, fi)
	}
	if m := st.Manual; m != nil {
		out.Manual = &manualFreezeJSON{By: string(m.By), Reason: m.Reason, At: formatTime(m.At)}
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, out)
	return nil
}

type deployListJSON struct {
	Service  string       `json:"service"`
	Deploys  []deployJSON `json:"deploys"`
	Live     *deployJSON  `json:"live"`
	LastGood *deployJSON  `json:"last_good"`
	Errors   []string     `json:"errors"`
	// ReadAt is when the providers were last read; null when they have
	// not been since Warroom started (only stored deploys are shown).
	ReadAt *string `json:"providers_read_at"`
}

type deployJSON struct {
	Source      string  `json:"source"`
	ExternalID  string  `json:"external_id"`
	Environment string  `json:"environment"`
	Ref         string  `json:"ref"`
	SHA         string  `json:"sha"`
	Status      string  `json:"status"`
	Creator     string  `json:"creator"`
	Description string  `json:"description"`
	URL         string  `json:"url"`
	StartedAt   *string `json:"started_at"`
	FinishedAt  *string `json:"finished_at"`
	Rollback    bool    `json:"rollback"`
}

func toDeployJSON(d deploys.Deploy) deployJSON {
	return deployJSON{Source: string(d.Source), ExternalID: d.ExternalID, Environment: d.Environment, Ref: d.Ref,
		SHA: d.SHA, Status: string(d.Status), Creator: d.Creator, Description: d.Description, URL: d.URL,
		StartedAt: formatTime(d.StartedAt), FinishedAt: formatTime(d.FinishedAt), Rollback: d.Rollback}
}

// maxDeployLimit bounds ?limit= of the deploy list.
const maxDeployLimit = 100

// getDeploys lists a service's recent deploys with what is live and the
// last good deploy before it: GET /api/services/{service}/deploys. It
// serves what Warroom knows (stored deploys, and what the providers
// answered when last read, at "providers_read_at") and calls no provider.
// A provider that could not be read then is named in "errors".
func (s *Server) getDeploys(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Deploys == nil {
		return &StatusError{Code: http.StatusNotFound, Msg: "deploys are not available in this Warroom"}
	}
	limit := deploys.RecentLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeployLimit {
			return &StatusError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("limit must be a number from 1 to %d", maxDeployLimit)}
		}
		limit = n
	}
	rec, err := s.opts.Deploys.Known(r.Context(), r.PathValue("service"), limit)
	if err != nil {
		return err
	}
	out := deployListJSON{Service: rec.Service, Deploys: make([]deployJSON, 0, len(rec.Deploys)), Errors: []string{},
		ReadAt: formatTime(rec.ReadAt)}
	for _, d := range rec.Deploys {
		out.Deploys = append(out.Deploys, toDeployJSON(d))
	}
	if rec.Live != nil {
		l := toDeployJSON(*rec.Live)
		out.Live = &l
	}
	if rec.LastGood != nil {
		g := toDeployJSON(*rec.LastGood)
		out.LastGood = &g
	}
	for _, e := range rec.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
