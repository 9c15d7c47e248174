package app

import (
	"strings"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
)

// AlertPolicy converts the alerts section of the configuration, which
// Validate has checked, to the domain's policy.
func AlertPolicy(c config.Alerts) incidents.AlertPolicy {
	p := incidents.AlertPolicy{
		SeverityLabel:    c.SeverityLabel,
		SeverityMap:      make(map[string]incidents.Severity, len(c.SeverityMap)),
		DefaultSeverity:  incidents.Severity(c.DefaultSeverity),
		DeclareAtOrAbove: incidents.Severity(c.DeclareAtOrAbove),
		ReopenWithin:     c.ReopenWithin.D(),
		KeepBodies:       c.KeepBodies.D(),
	}
	for k, v := range c.SeverityMap {
		p.SeverityMap[strings.ToLower(k)] = incidents.Severity(v)
	}
	for _, r := range c.Routes {
		route := incidents.AlertRoute{
			Service:  r.Service,
			Severity: incidents.Severity(r.Severity),
			Declare:  r.Declare,
			GroupBy:  r.GroupBy,
		}
		for _, m := range r.Matchers {
			route.Conditions = append(route.Conditions, incidents.Condition{Label: m.Label, Matcher: m})
		}
		p.Routes = append(p.Routes, route)
	}
	return p
}
