package deploys

import (
	"context"

	"github.com/warroomhq/warroom/incidents"
)

// PeopleResolver tells which actor a configured person acts as when
// Options.People does not say: a person configured by email only is known
// by their Slack user ID once Slack said whose the email is. The Slack
// adapter implements it from what it learned (bot.SlackPeople); it answers
// from Warroom's database and never waits on Slack, since it runs while a
// click is answered.
type PeopleResolver interface {
	// ActorOf returns the actor person acts as, and false when that is not
	// known (yet).
	ActorOf(ctx context.Context, person string) (incidents.Actor, bool, error)
}

// resolvedPerson reports whether actor is person by the PeopleResolver. An
// error counts as no (a permission check fails closed) and is logged.
func (s *Service) resolvedPerson(ctx context.Context, person string, actor incidents.Actor) bool {
	if s.opts.Resolver == nil || person == "" || actor == "" {
		return false
	}
	a, ok, err := s.opts.Resolver.ActorOf(ctx, person)
	if err != nil {
		s.opts.Logger.Warn("could not tell who a configured person is", "person", person, "error", err)
		return false
	}
	return ok && a == actor
}
