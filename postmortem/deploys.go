package postmortem

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// Which deploys from before an incident a draft lists, for each of its
// services: those that finished in the DeployWindow before detection, the
// last MaxDeploysBefore of them; when none did, the last one that finished
// before detection however long before, so that the draft still says what
// was live. The built-in template says so in words: keep them together.
const (
	DeployWindow     = 24 * time.Hour
	MaxDeploysBefore = 3
	// deployCandidates is how many deploys per service the Drafter reads:
	// the store lists them by start, the draft picks by finish.
	deployCandidates = 10
	// maxDeployDescription cuts a deploy's description in the draft.
	maxDeployDescription = 200
)

// The phases of a row of the draft's deploys.
const (
	PhaseBefore = "before" // before detection
	PhaseDuring = "during" // from detection to resolution
	PhaseAfter  = "after"  // after resolution
)

// DeployEntry is one row of the draft's deploys and rollbacks: a deploy
// that finished shortly before the incident, or a deploy or rollback event
// of its timeline.
type DeployEntry struct {
	Entry
	// Phase is PhaseBefore, PhaseDuring or PhaseAfter, by At.
	Phase string
	// FromDetection is how long before (PhaseBefore) or after detection
	// At is; never negative.
	FromDetection time.Duration
	// Finished is true for a deploy from before the incident, whose At is
	// when it finished.
	Finished bool
	// deployID is the stored deploy (0: none known).
	deployID int64
}

// phase places at against the incident's detection and resolution.
func (d *Draft) phase(at time.Time) (string, time.Duration) {
	switch {
	case d.Detected.IsZero():
		return PhaseDuring, 0
	case at.Before(d.Detected):
		return PhaseBefore, d.Detected.Sub(at)
	case !d.Open && !d.Incident.ResolvedAt.IsZero() && at.After(d.Incident.ResolvedAt):
		return PhaseAfter, at.Sub(d.Detected)
	}
	return PhaseDuring, at.Sub(d.Detected)
}

// deployEntry is the row of a deploy or rollback event e of the timeline.
func (d *Draft) deployEntry(e Entry, ev *incidents.Event) DeployEntry {
	de := DeployEntry{Entry: e, deployID: int64Of(ev.Data["deploy_id"])}
	if u, ok := ev.Data["url"].(string); ok && de.Link == "" {
		de.Link = u // the deploy's or rollback's run, deployment or log
	}
	de.Phase, de.FromDetection = d.phase(e.At)
	return de
}

// int64Of reads a number of an event's Data: an int64 as recorded, a
// float64 or json.Number as read back from JSON.
func int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// addDeploysBefore adds the deploys of ds (stored deploys and those shown
// at declaration, in any order) that finished before detection, picked for
// each of the draft's services as DeployWindow says, then sorts the rows by
// time. A deploy of another service, one that had not finished by
// detection, and one the timeline already shows are left out; a deploy
// listed twice (by its source and ID) is shown as it comes first.
func (d *Draft) addDeploysBefore(ds []deploys.Deploy, opts DraftOptions) {
	if len(ds) > 0 && !d.Detected.IsZero() {
		shown := map[int64]bool{}
		for _, e := range d.Deploys {
			if e.deployID != 0 {
				shown[e.deployID] = true
			}
		}
		seen := map[[2]string]bool{}
		byService := map[string][]deploys.Deploy{}
		for _, dep := range ds {
			if dep.FinishedAt.IsZero() || !dep.FinishedAt.Before(d.Detected) || (dep.ID != 0 && shown[dep.ID]) {
				continue
			}
			if dep.ExternalID != "" {
				k := [2]string{string(dep.Source), dep.ExternalID}
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			byService[dep.Service] = append(byService[dep.Service], dep)
		}
		for _, service := range d.Services {
			list := byService[service]
			slices.SortFunc(list, func(a, b deploys.Deploy) int {
				return cmp.Or(b.FinishedAt.Compare(a.FinishedAt), cmp.Compare(b.ID, a.ID), cmp.Compare(b.ExternalID, a.ExternalID))
			})
			list = slices.CompactFunc(list, func(a, b deploys.Deploy) bool { return a.ID != 0 && a.ID == b.ID })
			n := 0
			for n < len(list) && n < MaxDeploysBefore && d.Detected.Sub(list[n].FinishedAt) <= DeployWindow {
				n++
			}
			if n == 0 && len(list) > 0 {
				n = 1 // the last deploy before, however old
			}
			for _, dep := range list[:n] {
				d.Deploys = append(d.Deploys, d.deployBefore(dep, opts))
			}
		}
	}
	slices.SortStableFunc(d.Deploys, func(a, b DeployEntry) int { return a.At.Compare(b.At) })
}

// deployBefore is the row of a deploy that finished before detection.
func (d *Draft) deployBefore(dep deploys.Deploy, opts DraftOptions) DeployEntry {
	at := dep.FinishedAt
	text := deploys.DeployText(dep)
	if desc := strings.TrimSpace(dep.Description); desc != "" {
		if r := []rune(desc); len(r) > maxDeployDescription {
			desc = string(r[:maxDeployDescription-1]) + "…"
		}
		text += " — " + desc
	}
	e := DeployEntry{
		Entry: Entry{
			At:    at,
			UTC:   at.UTC().Format(time.DateTime),
			Local: at.In(d.Location).Format(time.DateTime + " MST"),
			Kind:  deploys.EventDeploy,
			Actor: incidents.Actor(opts.name(string(deploys.DeployActor(dep)))),
			Text:  text,
			Link:  dep.URL,
		},
		Finished: true,
		deployID: dep.ID,
	}
	e.Phase, e.FromDetection = d.phase(at)
	return e
}
