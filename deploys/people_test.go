package deploys_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
)

// emailPeople resolves carol, configured by email only, once learned.
type emailPeople struct {
	known map[string]incidents.Actor
	err   error
}

func (p *emailPeople) ActorOf(_ context.Context, person string) (incidents.Actor, bool, error) {
	a, ok := p.known[person]
	return a, ok, p.err
}

const carol = "U01CAROL"

func carolHarness(t *testing.T, r deploys.PeopleResolver) *harness {
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "w.db"), clock: clock.NewManual(t0),
		prov: &fakeProvider{}, rb: newRollbacker(), moreApprovers: []string{"carol"}, resolver: r}
	h.open()
	return h
}

func TestAnApproverKnownByEmailMayConfirmOnceResolved(t *testing.T) {
	ctx := context.Background()
	people := &emailPeople{known: map[string]incidents.Actor{}}
	h := carolHarness(t, people)
	_, r := h.propose()
	// Before Slack said whose carol@example.com is, carol is refused.
	var refused *deploys.RefusedError
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(carol)); !errors.As(err, &refused) {
		t.Fatalf("unresolved carol: %v, want a refusal", err)
	}
	people.known["carol"] = incidents.SlackActor(carol)
	// Someone else is not carol.
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(dave)); !errors.As(err, &refused) {
		t.Fatalf("dave: %v, want a refusal", err)
	}
	got, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(carol))
	if err != nil || got.State != deploys.RollbackConfirmed || got.ConfirmedBy != incidents.SlackActor(carol) {
		t.Fatalf("resolved carol: %+v, %v", got, err)
	}
}

func TestAResolverErrorRefuses(t *testing.T) {
	ctx := context.Background()
	h := carolHarness(t, &emailPeople{known: map[string]incidents.Actor{"carol": incidents.SlackActor(carol)},
		err: errors.New("database is locked")})
	_, r := h.propose()
	var refused *deploys.RefusedError
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(carol)); !errors.As(err, &refused) {
		t.Fatalf("with the resolver failing: %v, want a refusal", err)
	}
	// The people the config knows by Slack ID are not held up by it.
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatalf("alice: %v", err)
	}
}

// alice is configured with her Slack ID; a resolver that learned (from an
// email lookup) that she is another user does not make that user alice.
func TestAConfiguredSlackIDIsTheOnlyOne(t *testing.T) {
	ctx := context.Background()
	h := carolHarness(t, &emailPeople{known: map[string]incidents.Actor{"alice": incidents.SlackActor(dave)}})
	_, r := h.propose()
	var refused *deploys.RefusedError
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(dave)); !errors.As(err, &refused) {
		t.Fatalf("dave, whom the resolver takes for alice: %v, want a refusal", err)
	}
	got, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice))
	if err != nil || got.ConfirmedBy != incidents.SlackActor(alice) {
		t.Fatalf("alice: %+v, %v", got, err)
	}
}
