package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/pagerduty"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/oncall"
	"github.com/warroomhq/warroom/paging"
)

// wirePaging connects paging: the escalation policies and services from
// the configuration, on-call schedules, the listener that pages on declare
// and resolves pages on resolve, the jobs (escalation, PagerDuty, webhooks,
// Slack notices), and /incident page and ack. It then queues any page step
// that the queue lost, from the stored deadlines.
func (a *App) wirePaging(ctx context.Context, cfg *config.Config, opts Options) error {
	policies := PagingPolicies(cfg)
	services := map[string]string{}
	for name, svc := range cfg.Services {
		if svc.EscalationPolicy != "" {
			services[name] = svc.EscalationPolicy
		}
	}
	resolver := a.OnCall // one resolver for /incident oncall and for paging
	var err error
	a.Paging, err = paging.New(paging.Options{
		Incidents: a.Incidents,
		Pages:     a.Store,
		Policies:  policies,
		Services:  services,
		People:    slices.Sorted(maps.Keys(cfg.People)),
		Schedules: resolver.ScheduleNames(),
		OnCall:    onCallAdapter{resolver},
		PagerDuty: newPagerDutySender(policies, opts.Now),
		Webhook:   webhookSender{client: &webhook.Client{Now: opts.Now}},
		PublicURL: cfg.Server.PublicURL,
		Now:       opts.Now,
		Logger:    opts.Logger.With("component", "paging"),
	})
	if err != nil {
		return err
	}
	a.Incidents.AddListener(a.Paging.Listener())
	a.Paging.RegisterJobs(a.Queue)
	if a.Bot != nil {
		a.Bot.EnablePaging(a.Paging)
		a.Bot.RegisterPagingJobs(a.Queue)
	} else {
		log := opts.Logger.With("component", "paging")
		a.Queue.Handle(paging.JobNotifySlack, jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			log.WarnContext(ctx, "a page step notifies nobody in Slack: slack.bot_token is not set", "key", j.Key)
			return nil
		}))
		// No Slack messages carry an Acknowledge button to edit.
		a.Queue.Handle(paging.JobSlackPageState, jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
		a.Queue.Handle(paging.JobSlackWarning, jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			var w paging.Warning
			if err := json.Unmarshal(j.Payload, &w); err != nil {
				return jobs.Permanent(err)
			}
			log.WarnContext(ctx, "page warning", "incident", w.Incident.String(), "page", w.Page, "text", w.Text)
			return nil
		}))
	}
	if n, err := a.Paging.Resume(ctx); err != nil {
		return fmt.Errorf("resuming pages: %w", err)
	} else if n > 0 {
		opts.Logger.Warn("queued page steps that the job queue had lost", "steps", n)
	}
	return nil
}

// PagingPolicies converts the configuration's escalation policies; steps
// are put in the order of their after.
func PagingPolicies(cfg *config.Config) map[string]paging.Policy {
	out := make(map[string]paging.Policy, len(cfg.EscalationPolicies))
	for name, p := range cfg.EscalationPolicies {
		pol := paging.Policy{Name: name, Repeat: p.Repeat, MinSeverity: incidents.Severity(p.MinSeverity)}
		for _, st := range p.Steps {
			step := paging.Step{After: st.After.D()}
			for _, t := range st.Targets {
				step.Targets = append(step.Targets, paging.Target{Kind: paging.TargetKind(t.Kind), Name: t.Name})
			}
			pol.Steps = append(pol.Steps, step)
		}
		slices.SortStableFunc(pol.Steps, func(a, b paging.Step) int { return cmp.Compare(a.After, b.After) })
		if p.PagerDuty.Enabled() {
			pol.PagerDuty = paging.PagerDutyConfig{RoutingKey: p.PagerDuty.RoutingKey.Reveal(), URL: p.PagerDuty.URL}
		}
		if p.Webhook.Enabled() {
			pol.Webhook = paging.WebhookConfig{URL: p.Webhook.URL, Secret: []byte(p.Webhook.Secret.Reveal())}
		}
		out[name] = pol
	}
	return out
}

// onCallAdapter maps the on-call resolver's errors to paging's.
type onCallAdapter struct{ r *oncall.Resolver }

func (o onCallAdapter) Who(ctx context.Context, schedule string, at time.Time) (string, error) {
	who, err := o.r.Who(ctx, schedule, at)
	switch {
	case errors.Is(err, oncall.ErrNobodyOnCall):
		return "", fmt.Errorf("%w: %w", paging.ErrNobodyOnCall, err)
	case errors.Is(err, oncall.ErrUnknownSchedule):
		return "", fmt.Errorf("%w: %w", paging.ErrUnknownSchedule, err)
	}
	return who, err
}

// pagerDutySender sends paging's PagerDuty events with one client per
// events URL.
type pagerDutySender struct {
	clients map[string]*pagerduty.Client
}

func newPagerDutySender(policies map[string]paging.Policy, now func() time.Time) pagerDutySender {
	s := pagerDutySender{clients: map[string]*pagerduty.Client{}}
	for _, p := range policies {
		if p.PagerDuty.RoutingKey != "" && s.clients[p.PagerDuty.URL] == nil {
			s.clients[p.PagerDuty.URL] = &pagerduty.Client{URL: p.PagerDuty.URL, Now: now}
		}
	}
	return s
}

func (s pagerDutySender) SendPagerDuty(ctx context.Context, ev paging.PagerDutyEvent) error {
	c := s.clients[ev.URL]
	if c == nil {
		return jobs.Permanent(errors.New("no PagerDuty client for this policy's URL"))
	}
	links := make([]pagerduty.Link, len(ev.Links))
	for i, l := range ev.Links {
		links[i] = pagerduty.Link{Href: l.URL, Text: l.Title}
	}
	_, err := c.Send(ctx, pagerduty.Event{
		RoutingKey: ev.RoutingKey, Action: pagerduty.Action(ev.Action), DedupKey: ev.DedupKey,
		Summary: ev.Summary, Source: ev.Source, Severity: pagerduty.SeverityFor(string(ev.Severity)),
		Component: ev.Component, Group: ev.Group, Class: ev.Class, CustomDetails: ev.Details, Links: links,
		Timestamp: ev.Timestamp, ClientURL: ev.ClientURL,
	})
	return err
}

// webhookSender posts paging's events as webhook.PagePayload bodies.
type webhookSender struct{ client *webhook.Client }

func (s webhookSender) PostWebhook(ctx context.Context, url string, secret []byte, deliveryID string, ev paging.PageEvent) error {
	body, err := PagePayload(ev).Marshal()
	if err != nil {
		return jobs.Permanent(err)
	}
	return s.client.Post(ctx, url, secret, string(ev.Event), deliveryID, body)
}

// PagePayload is the webhook body of a page event.
func PagePayload(ev paging.PageEvent) webhook.PagePayload {
	p := webhook.PagePayload{
		Event: string(ev.Event),
		At:    ev.At,
		Incident: webhook.PageIncident{ID: int64(ev.Incident), Title: ev.Title, Severity: ev.Severity,
			Service: ev.Service, Status: ev.Status, URL: ev.URL, ChannelID: ev.ChannelID,
			ChannelURL: paging.ChannelURL(ev.ChannelID), Lead: ev.Lead},
		Page: webhook.PageInfo{ID: ev.Page, State: string(ev.State), Policy: ev.Policy, Step: ev.Step, Round: ev.Round,
			Targets: ev.Targets, People: ev.People, Channels: ev.Channels, DedupKey: ev.DedupKey,
			AcknowledgedBy: actorName(ev.AckedBy)},
	}
	if ev.ChannelName != "" {
		p.Incident.Channel = "#" + ev.ChannelName
	}
	if len(p.Page.Targets) == 0 {
		p.Page.Targets = []string{ev.Target}
	}
	if !ev.AckedAt.IsZero() {
		at := ev.AckedAt
		p.Page.AcknowledgedAt = &at
	}
	return p
}

// actorName is who acted, for outside systems: a Slack user's ID, or the
// actor as it is.
func actorName(a incidents.Actor) string {
	if id, ok := strings.CutPrefix(string(a), "slack:"); ok {
		return id
	}
	return string(a)
}
