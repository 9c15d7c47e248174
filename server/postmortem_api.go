package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
)

// Postmortems writes incidents' postmortem drafts as Markdown;
// *postmortem.Drafter has it.
type Postmortems interface {
	// Draft returns the draft of incident id, or an error wrapping
	// incidents.ErrNotFound for an unknown incident.
	Draft(ctx context.Context, id incidents.ID) ([]byte, error)
}

// Followups is what is known of incidents' postmortem pull requests and
// action items; the SQLite store has it. GET /api/incidents/{id} shows it.
type Followups interface {
	PostmortemRecord(ctx context.Context, id incidents.ID) (postmortem.Record, bool, error)
	IncidentActionItems(ctx context.Context, id incidents.ID) ([]postmortem.TrackedItem, error)
}

type postmortemJSON struct {
	Repository  string  `json:"repository"`
	Branch      string  `json:"branch"`
	Path        string  `json:"path"`
	PullRequest int     `json:"pull_request"`
	URL         string  `json:"url"`
	State       string  `json:"state"`
	Edited      bool    `json:"edited_by_people"`
	UpdatedAt   *string `json:"updated_at"`
}

type actionItemJSON struct {
	Text      string  `json:"text"`
	State     string  `json:"state"` // "open" or "done"
	Issue     int     `json:"issue,omitempty"`
	IssueURL  string  `json:"issue_url,omitempty"`
	CreatedAt *string `json:"created_at"`
}

// followups adds the incident's postmortem and action items to out.
func (s *Server) followups(ctx context.Context, id incidents.ID, out *incidentJSON) error {
	list := []actionItemJSON{}
	out.ActionItems = &list
	if s.opts.Followups == nil {
		return nil
	}
	rec, ok, err := s.opts.Followups.PostmortemRecord(ctx, id)
	if err != nil {
		return err
	}
	if ok {
		out.Postmortem = &postmortemJSON{Repository: rec.Repo, Branch: rec.Branch, Path: rec.Path, PullRequest: rec.PRNumber,
			URL: rec.PRURL, State: rec.PRState, Edited: rec.Edited, UpdatedAt: formatTime(rec.UpdatedAt)}
	}
	items, err := s.opts.Followups.IncidentActionItems(ctx, id)
	if err != nil {
		return err
	}
	for _, it := range items {
		state := "open"
		if it.Done {
			state = "done"
		}
		list = append(list, actionItemJSON{Text: it.Text, State: state, Issue: it.IssueNumber,
			IssueURL: it.IssueURL, CreatedAt: formatTime(it.CreatedAt)})
	}
	out.ActionItems = &list
	return nil
}

// getPostmortem answers with an incident's postmortem draft: Markdown, or
// with ?format=html the same as a page of HTML that runs and loads nothing
// (postmortem.HTML, under a Content-Security-Policy that allows nothing).
func (s *Server) getPostmortem(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Postmortems == nil {
		return &StatusError{Code: http.StatusNotFound, Msg: "postmortem drafts are not available in this Warroom"}
	}
	id, err := incidents.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	format := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("format")))
	switch format {
	case "", "markdown", "md", "html":
	default:
		return &StatusError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("format %q: use markdown (the default) or html", format)}
	}
	md, err := s.opts.Postmortems.Draft(r.Context(), id)
	if err != nil {
		return fmt.Errorf("writing the postmortem draft of %s: %w", id, err)
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if format != "html" {
		h.Set("Content-Type", "text/markdown; charset=utf-8")
		_, _ = w.Write(md)
		return nil
	}
	body, err := postmortem.HTML(md)
	if err != nil {
		return fmt.Errorf("rendering the postmortem draft of %s as HTML: %w", id, err)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The draft holds text from people and alerts: nothing in it may load
	// or run, whatever the renderer let through.
	h.Set("Content-Security-Policy", "default-src 'none'")
	var page bytes.Buffer
	page.Grow(len(body) + 200)
	fmt.Fprintf(&page, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>%s postmortem draft</title>\n</head>\n<body>\n", id)
	page.Write(body)
	page.WriteString("</body>\n</html>\n")
	_, _ = w.Write(page.Bytes())
	return nil
}
