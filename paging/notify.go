package paging

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// DedupKey is the PagerDuty dedup key that an incident's pages share: one
// PagerDuty alert per Warroom incident, however many steps and pages.
func DedupKey(id incidents.ID) string { return fmt.Sprintf("warroom-inc-%d", int64(id)) }

// PageDedupKey is the PagerDuty dedup key of a page of its own, for a page
// started after the incident's alert was acknowledged or resolved.
func PageDedupKey(id incidents.ID, page int64) string {
	return fmt.Sprintf("warroom-inc-%d-p%d", int64(id), page)
}

// pagerDutyKey is p's PagerDuty dedup key, among the incident's pages: the
// incident's (DedupKey), unless an earlier page of the incident that pages
// through PagerDuty had been acknowledged or resolved when p started. Then
// the incident's alert may be acknowledged, and a trigger with its key
// would be merged into it and wake nobody: p gets a key of its own
// (PageDedupKey). The answer never changes for a page.
func (s *Service) pagerDutyKey(p *Page, pages []*Page) string {
	for _, q := range pages {
		if q.ID >= p.ID || !s.usesPagerDuty(q) {
			continue
		}
		for _, over := range []time.Time{q.AckedAt, q.ResolvedAt} {
			if !over.IsZero() && !over.After(p.CreatedAt) {
				return PageDedupKey(p.Incident, p.ID)
			}
		}
	}
	return DedupKey(p.Incident)
}

// usesPagerDuty reports whether p's policy pages through PagerDuty.
func (s *Service) usesPagerDuty(p *Page) bool {
	pol, ok := s.opts.Policies[p.Policy]
	return ok && p.Policy != "" && pol.PagerDuty.RoutingKey != ""
}

// triggered reports whether p's first step ran: only then were PagerDuty
// and the webhook told of it, and have an acknowledgement or a resolution
// to hear.
func triggered(p *Page) bool { return p.Round > 0 || p.Step > 0 }

// enqueuePagerDuty enqueues one PagerDuty action of a page with dedup key
// key, when its policy pages through PagerDuty. Each action is sent once
// per page.
func (s *Service) enqueuePagerDuty(ctx context.Context, tx incidents.Tx, p *Page, pol *Policy, action, key string) error {
	if pol.PagerDuty.RoutingKey == "" {
		return nil
	}
	payload, err := json.Marshal(PagerDutyJob{Page: p.ID, Incident: p.Incident, Policy: p.Policy, Action: action, DedupKey: key})
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, jobs.NewJob{Kind: JobPagerDuty, Key: fmt.Sprintf("page:%d:pagerduty:%s", p.ID, action),
		SerialKey: "pagerduty:" + key, Payload: payload})
	return err
}

// enqueueWebhook enqueues the webhook of one page event, when the page's
// policy has a webhook. The event is made now; edit fills in the event's
// own fields; suffix tells apart the events of one kind (the steps).
func (s *Service) enqueueWebhook(ctx context.Context, tx incidents.Tx, p *Page, pol *Policy, inc *incidents.Incident,
	kind incidents.EventKind, now time.Time, dedupKey string, edit func(*PageEvent), suffix string) error {
	if pol.Webhook.URL == "" {
		return nil
	}
	ev := PageEvent{
		Event: kind, At: now,
		Incident: inc.ID, Title: inc.Title, Severity: string(inc.Severity), Status: string(inc.Status), Service: inc.Service,
		ChannelID: inc.ChannelID, ChannelName: inc.ChannelName, URL: s.incidentURL(inc.ID), Lead: inc.Lead(),
		Page: p.ID, State: p.State, Policy: p.Policy, Target: p.Target.String(),
		AckedBy: p.AckedBy, AckedAt: p.AckedAt, DedupKey: dedupKey,
	}
	if edit != nil {
		edit(&ev)
	}
	payload, err := json.Marshal(WebhookJob{Policy: p.Policy, Event: ev})
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, jobs.NewJob{Kind: JobWebhook, Key: fmt.Sprintf("page:%d:webhook:%s%s", p.ID, kind, suffix),
		SerialKey: fmt.Sprintf("webhook:page:%d", p.ID), Payload: payload})
	return err
}

// incidentURL is the incident's JSON API URL, or "" without a public URL.
func (s *Service) incidentURL(id incidents.ID) string {
	if s.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.opts.PublicURL, "/") + "/api/incidents/" + id.String()
}

// ChannelURL is a link that opens a Slack channel by its ID, in the app
// or the browser, without knowing the workspace's domain; "" without an ID.
func ChannelURL(id string) string {
	if id == "" {
		return ""
	}
	return "https://slack.com/app_redirect?channel=" + url.QueryEscape(id)
}

// maxSummary is PagerDuty's limit on an event's summary.
const maxSummary = 1024

func (s *Service) handlePagerDuty(ctx context.Context, j jobs.Job) error {
	var in PagerDutyJob
	if err := json.Unmarshal(j.Payload, &in); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding %s payload: %w", j.Kind, err))
	}
	pol, ok := s.opts.Policies[in.Policy]
	if !ok || pol.PagerDuty.RoutingKey == "" {
		return jobs.Permanent(fmt.Errorf("escalation policy %q has no PagerDuty routing key any more", in.Policy))
	}
	if s.opts.PagerDuty == nil {
		return jobs.Permanent(errors.New("no PagerDuty client is wired"))
	}
	inc, err := s.inc.Get(ctx, in.Incident)
	if errors.Is(err, incidents.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	p, err := s.opts.Pages.Page(ctx, in.Page)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("%s [%s] %s", inc.ID, inc.Severity, inc.Title)
	if utf8.RuneCountInString(summary) > maxSummary {
		summary = string([]rune(summary)[:maxSummary-1]) + "…"
	}
	ev := PagerDutyEvent{
		URL:        pol.PagerDuty.URL,
		RoutingKey: pol.PagerDuty.RoutingKey,
		Action:     in.Action,
		DedupKey:   cmp.Or(in.DedupKey, DedupKey(inc.ID)),
		Summary:    summary,
		Source:     cmp.Or(inc.Service, "warroom"),
		Severity:   inc.Severity,
		Component:  inc.Service,
		Group:      inc.Service,
		Class:      "incident",
		Details: map[string]any{
			"incident": inc.ID.String(), "title": inc.Title, "severity": string(inc.Severity),
			"status": string(inc.Status), "service": inc.Service, "lead": inc.Lead(), "channel": channelName(inc),
			"page": in.Page, "policy": in.Policy,
		},
		// When the problem was noticed: the page's start, the same on
		// every retry.
		Timestamp: p.CreatedAt,
	}
	for k, v := range ev.Details {
		if v == "" {
			delete(ev.Details, k)
		}
	}
	if u := ChannelURL(inc.ChannelID); u != "" {
		ev.Links = append(ev.Links, incidents.Link{Title: "Slack channel " + channelName(inc), URL: u})
		ev.ClientURL = u
	}
	if u := s.incidentURL(inc.ID); u != "" {
		ev.Links = append(ev.Links, incidents.Link{Title: inc.ID.String() + " in Warroom's API", URL: u})
		ev.ClientURL = cmp.Or(ev.ClientURL, u)
	}
	return s.opts.PagerDuty.SendPagerDuty(ctx, ev)
}

// channelName is the incident's channel as "#name", or "" without one.
func channelName(inc *incidents.Incident) string {
	if inc.ChannelName == "" {
		return ""
	}
	return "#" + inc.ChannelName
}

func (s *Service) handleWebhook(ctx context.Context, j jobs.Job) error {
	var in WebhookJob
	if err := json.Unmarshal(j.Payload, &in); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding %s payload: %w", j.Kind, err))
	}
	pol, ok := s.opts.Policies[in.Policy]
	if !ok || pol.Webhook.URL == "" {
		return jobs.Permanent(fmt.Errorf("escalation policy %q has no webhook any more", in.Policy))
	}
	if s.opts.Webhook == nil {
		return jobs.Permanent(errors.New("no webhook client is wired"))
	}
	return s.opts.Webhook.PostWebhook(ctx, pol.Webhook.URL, pol.Webhook.Secret, j.Key, in.Event)
}
