package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/oncall"
)

// oncallTimeFormat shows a time in its schedule's zone.
const oncallTimeFormat = "Mon 2 Jan 2006 15:04 MST"

// cmdOncall answers "who is on call?" and "who would be paged?" from the
// configuration and the overrides recorded in the database, without
// starting anything. It only reads, so it may run while serve does.
func cmdOncall(e *env, args []string) error {
	fs := e.newFlags("oncall")
	cfgPath := fs.String("config", "", "config file (default $WARROOM_CONFIG or warroom.yaml)")
	db := fs.String("db", "", "SQLite database with the overrides set from Slack (default $WARROOM_DB or database.path)")
	service := fs.String("service", "", "show who would be paged for this service, step by step")
	schedule := fs.String("schedule", "", "show this schedule's current shift and next handoffs")
	at := fs.String("at", "", "the time to answer for, RFC 3339 (default now)")
	next := fs.Int("next", 5, "with --schedule: how many handoffs to show")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "warroom oncall: unexpected argument %q; use --service or --schedule\n", fs.Arg(0))
		return errUsage
	}
	if *service != "" && *schedule != "" {
		fmt.Fprintln(e.stderr, "warroom oncall: use --service or --schedule, not both")
		return errUsage
	}
	if *next < 1 || *next > 100 {
		return fmt.Errorf("--next %d: want 1 to 100", *next)
	}
	when := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-11-23T09:00:00+01:00", *at)
		}
		when = t
	}
	cfg, err := e.loadConfig(e.configPath(*cfgPath))
	if err != nil {
		return err
	}
	// Check what was asked for before opening anything.
	var policy config.EscalationPolicy
	switch {
	case *service != "":
		svc, ok := cfg.Services[*service]
		if !ok {
			return fmt.Errorf("unknown service %q (configured: %s)", *service, joinKeys(cfg.Services))
		}
		if svc.EscalationPolicy == "" {
			return fmt.Errorf("service %q has no escalation_policy: nobody would be paged for it", *service)
		}
		policy = cfg.EscalationPolicies[svc.EscalationPolicy]
	case *schedule != "":
		if _, ok := cfg.Schedules[*schedule]; !ok {
			return fmt.Errorf("unknown schedule %q (configured: %s)", *schedule, joinKeys(cfg.Schedules))
		}
	case len(cfg.Schedules) == 0:
		return errors.New("the configuration has no schedules")
	}

	var store oncall.OverrideStore
	dbPath := firstNonEmpty(*db, e.getenv("WARROOM_DB"), cfg.Database.Path)
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(e.stderr, "warroom oncall: no database at %s: showing the configuration's overrides only\n", dbPath)
	} else if st, err := openReadOnly(e.ctx, dbPath); err != nil {
		fmt.Fprintf(e.stderr, "warroom oncall: not reading overrides from %s (%v): showing the configuration's only\n", dbPath, err)
	} else {
		defer st.Close()
		store = st
	}
	p := &oncallPrinter{e: e, cfg: cfg, r: oncall.NewResolver(oncall.FromConfig(cfg.Schedules), store), w: e.stdout}
	switch {
	case *service != "":
		return p.service(*service, cfg.Services[*service].EscalationPolicy, policy, when)
	case *schedule != "":
		return p.schedule(*schedule, when, *next)
	}
	for i, name := range p.r.ScheduleNames() {
		if i > 0 {
			fmt.Fprintln(p.w)
		}
		if err := p.schedule(name, when, 1); err != nil {
			return err
		}
	}
	return nil
}

type oncallPrinter struct {
	e   *env
	cfg *config.Config
	r   *oncall.Resolver
	w   io.Writer
}

// service prints, step by step, whom the service's policy would page for
// an incident declared at at.
func (p *oncallPrinter) service(name, policyName string, pol config.EscalationPolicy, at time.Time) error {
	fmt.Fprintf(p.w, "Who would be paged for %s at %s (policy %s):\n", name, at.Format(time.RFC3339), policyName)
	for i, st := range pol.Steps {
		when := at.Add(st.After.D())
		after := "at once"
		if st.After > 0 {
			after = "after " + st.After.String()
		}
		fmt.Fprintf(p.w, "\nStep %d, %s (%s):\n", i+1, after, when.Format(time.RFC3339))
		for _, t := range st.Targets {
			switch t.Kind {
			case config.TargetSchedule:
				sh, err := p.r.OnCall(p.e.ctx, t.Name, when)
				switch {
				case errors.Is(err, oncall.ErrNobodyOnCall):
					fmt.Fprintf(p.w, "  schedule %s: nobody is on call (%v)\n", t.Name, err)
				case err != nil:
					return err
				default:
					fmt.Fprintf(p.w, "  schedule %s: %s, on call until %s%s\n", t.Name, p.person(sh.Person),
						sh.End.Format(oncallTimeFormat), overrideNote(sh))
				}
			case config.TargetPerson:
				fmt.Fprintf(p.w, "  person %s\n", p.person(t.Name))
			case config.TargetChannel:
				fmt.Fprintf(p.w, "  channel %s\n", t.Name)
			}
		}
	}
	if pol.Repeat > 0 {
		times := "times"
		if pol.Repeat == 1 {
			times = "time"
		}
		fmt.Fprintf(p.w, "\nWhile nobody acknowledges, the steps run %d more %s.\n", pol.Repeat, times)
	}
	var also []string
	if pol.PagerDuty.Enabled() {
		also = append(also, "PagerDuty")
	}
	if pol.Webhook.Enabled() {
		also = append(also, "the page webhook")
	}
	if len(also) > 0 {
		fmt.Fprintf(p.w, "Also paged through %s.\n", strings.Join(also, " and "))
	}
	return nil
}

// schedule prints the schedule's shift at at and the next handoffs.
func (p *oncallPrinter) schedule(name string, at time.Time, next int) error {
	s, err := p.r.Schedule(name)
	if err != nil {
		return err
	}
	cs := p.cfg.Schedules[name]
	fmt.Fprintf(p.w, "%s (%s, every %s, handoff %s):\n", name, s.Location, cs.Rotation.Every, cs.Rotation.Handoff)
	sh, err := p.r.OnCall(p.e.ctx, name, at)
	switch {
	case errors.Is(err, oncall.ErrNobodyOnCall):
		fmt.Fprintf(p.w, "  at %s: nobody is on call\n", at.In(s.Location).Format(oncallTimeFormat))
	case err != nil:
		return err
	default:
		fmt.Fprintf(p.w, "  on call: %s, since %s, until %s%s\n", p.person(sh.Person),
			sh.Start.Format(oncallTimeFormat), sh.End.Format(oncallTimeFormat), overrideNote(sh))
	}
	// Enough of the future for next handoffs, even if overrides cut some.
	to := at.Add(time.Duration(next+1) * s.Every)
	if first := s.FirstHandoff; to.Before(first) {
		to = first.Add(time.Duration(next) * s.Every)
	}
	shifts, err := p.r.Shifts(p.e.ctx, name, at, to)
	if err != nil {
		return err
	}
	shifts = slices.DeleteFunc(shifts, func(x oncall.Shift) bool { return !x.Start.After(at) })
	if len(shifts) == 0 {
		return nil
	}
	fmt.Fprintf(p.w, "  next handoffs:\n")
	for _, x := range shifts[:min(next, len(shifts))] {
		fmt.Fprintf(p.w, "    %s  %s%s\n", x.Start.Format(oncallTimeFormat), p.person(x.Person), overrideNote(x))
	}
	return nil
}

// person is a person's name with how to reach them.
func (p *oncallPrinter) person(name string) string {
	pp, ok := p.cfg.People[name]
	if !ok {
		return name + " (not in people)"
	}
	var how []string
	if pp.Slack != "" {
		how = append(how, "Slack "+pp.Slack)
	}
	if pp.Email != "" {
		how = append(how, pp.Email)
	}
	return name + " (" + strings.Join(how, ", ") + ")"
}

func overrideNote(s oncall.Shift) string {
	if s.Override {
		return " [override]"
	}
	return ""
}

// joinKeys lists a map's keys, sorted, for error messages.
func joinKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
