package app

import (
	"slices"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/oncall"
)

// setUpOnCall builds the on-call resolver from the configuration's
// schedules, with the overrides recorded in the database.
func (a *App) setUpOnCall() {
	a.OnCall = oncall.NewResolver(oncall.FromConfig(a.Config.Schedules), a.Store)
}

// onCallDirectory is what the bot's /incident oncall reads: the resolver,
// and the schedules that each service's escalation policy pages.
func (a *App) onCallDirectory() bot.OnCallDirectory {
	return onCallDirectory{Resolver: a.OnCall, services: serviceSchedules(a.Config)}
}

type onCallDirectory struct {
	*oncall.Resolver
	services map[string][]string
}

func (d onCallDirectory) ServiceSchedules(service string) []string {
	return slices.Clone(d.services[service])
}

// serviceSchedules lists, for each service, the schedules its escalation
// policy pages, in the order of the steps, each once.
func serviceSchedules(cfg *config.Config) map[string][]string {
	out := map[string][]string{}
	for name, svc := range cfg.Services {
		pol, ok := cfg.EscalationPolicies[svc.EscalationPolicy]
		if !ok {
			continue
		}
		for _, st := range pol.Steps {
			for _, t := range st.Targets {
				if t.Kind == config.TargetSchedule && !slices.Contains(out[name], t.Name) {
					out[name] = append(out[name], t.Name)
				}
			}
		}
	}
	return out
}
