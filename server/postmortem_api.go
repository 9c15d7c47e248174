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
