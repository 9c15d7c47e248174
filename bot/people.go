package bot

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobLookUpPerson asks Slack whose an email is (users.lookupByEmail) and
// remembers the answer, so that a person configured by email only is
// recognised when they click (SlackPeople). LookUpPeople queues one per
// such person, at most once a day (key "<email>:<date>"): when Warroom
// starts and, while it runs, each day (RunPeopleLookups). Inviting someone
// by email remembers the answer too.
const JobLookUpPerson = "slack.lookup_person"

// PersonMaxAge is how long what a lookup learned stands: SlackPeople
// takes an older answer (a day's lookup that failed since) as unknown.
const PersonMaxAge = 48 * time.Hour

// LookUpPersonJob is JobLookUpPerson's payload.
type LookUpPersonJob struct {
	Email string `json:"email"`
}

// personKey is the key of the Post that remembers whose email is: its Text
// is the Slack user ID, or empty once Slack said that no (fit) user has it.
func personKey(email string) string { return "slack-user:" + strings.ToLower(strings.TrimSpace(email)) }

// SlackPeople resolves the configured people known by email only to the
// Slack users that Slack said they are (JobLookUpPerson, invites), from the
// store: it never calls Slack. The deploys service uses it to let such a
// person confirm rollbacks as an approver.
//
// A person configured with a Slack user ID is that user only: SlackPeople
// does not know them, whatever was learned of their email. An answer older
// than PersonMaxAge (by now, time.Now when nil) is unknown: a person is
// looked up daily, and one whose lookups fail is not trusted on an old one.
func SlackPeople(store Store, people map[string]config.Person, now func() time.Time) deploys.PeopleResolver {
	if now == nil {
		now = time.Now
	}
	return slackPeople{store: store, people: people, now: now}
}

type slackPeople struct {
	store  Store
	people map[string]config.Person
	now    func() time.Time
}

func (p slackPeople) ActorOf(ctx context.Context, person string) (incidents.Actor, bool, error) {
	cp, ok := p.people[person]
	if !ok || strings.TrimSpace(cp.Slack) != "" || strings.TrimSpace(cp.Email) == "" {
		return "", false, nil
	}
	post, ok, err := p.store.Post(ctx, personKey(cp.Email))
	if err != nil || !ok || !slackUserID.MatchString(post.Text) || p.now().Sub(post.UpdatedAt) > PersonMaxAge {
		return "", false, err
	}
	return incidents.SlackActor(post.Text), true, nil
}

// byEmailOnly reports whether a configured person is known by email only:
// the people SlackPeople resolves and LookUpPeople looks up.
func byEmailOnly(p config.Person) bool {
	return strings.TrimSpace(p.Slack) == "" && strings.TrimSpace(p.Email) != ""
}

// LookUpPeople queues a JobLookUpPerson for each configured person with an
// email and no Slack user ID, at most once a day: a second call on the
// same (UTC) day queues nothing new.
func (b *Bot) LookUpPeople(ctx context.Context) error {
	day := b.now().UTC().Format(time.DateOnly)
	queued := false
	for _, name := range slices.Sorted(maps.Keys(b.opts.People)) {
		p := b.opts.People[name]
		if !byEmailOnly(p) {
			continue
		}
		email := strings.ToLower(strings.TrimSpace(p.Email))
		if err := enqueue(ctx, b.opts.Jobs, JobLookUpPerson, email+":"+day, "", LookUpPersonJob{Email: email}); err != nil {
			return err
		}
		queued = true
	}
	if queued {
		b.opts.Notify()
	}
	return nil
}

// RunPeopleLookups calls LookUpPeople every interval (an hour when not
// positive) until ctx ends, so that the people known by email are looked
// up again each day while Warroom runs. An error is logged and the next
// interval tries again.
func (b *Bot) RunPeopleLookups(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := b.LookUpPeople(ctx); err != nil && ctx.Err() == nil {
				b.log.Error("queueing the daily lookup of people known by email failed", "error", err)
			}
		}
	}
}

func (b *Bot) runLookUpPerson(ctx context.Context, j jobs.Job) error {
	p, err := decode[LookUpPersonJob](j)
	if err != nil {
		return err
	}
	var u *slack.User
	err = b.call(ctx, "users.lookupByEmail", "", func(ctx context.Context) (err error) {
		u, err = b.api.GetUserByEmailContext(ctx, p.Email)
		return err
	})
	if isSlackError(err, "users_not_found") {
		b.log.Warn("no Slack user has a configured person's email; forgetting who had it", "email", p.Email)
		return b.forgetPerson(ctx, p.Email)
	}
	if err != nil {
		return err
	}
	return b.learnPerson(ctx, p.Email, u)
}

// learnPerson remembers that email is Slack user u, or forgets whom it was
// when u may not act for a person: a deactivated user, a bot, a guest.
func (b *Bot) learnPerson(ctx context.Context, email string, u *slack.User) error {
	if email == "" || u == nil {
		return nil
	}
	if why := unfitPerson(u); why != "" {
		b.log.Warn("the Slack user with a configured person's email is "+why+"; forgetting who had it", "email", email, "user", u.ID)
		return b.forgetPerson(ctx, email)
	}
	if !slackUserID.MatchString(u.ID) {
		return nil
	}
	// A Slack user has one email: another configured email learned for
	// the same user before (an address that moved) is forgotten, so that
	// the user cannot act for both people until the next lookup.
	for _, p := range b.opts.People {
		other := strings.ToLower(strings.TrimSpace(p.Email))
		if other == "" || other == strings.ToLower(strings.TrimSpace(email)) {
			continue
		}
		post, ok, err := b.opts.Store.Post(ctx, personKey(other))
		if err != nil {
			return err
		}
		if ok && post.Text == u.ID {
			if err := b.forgetPerson(ctx, other); err != nil {
				return err
			}
		}
	}
	return b.opts.Store.SavePost(ctx, Post{Key: personKey(email), State: PostSent, Text: u.ID, UpdatedAt: b.now()})
}

// forgetPerson blanks what was learned of email.
func (b *Bot) forgetPerson(ctx context.Context, email string) error {
	if email == "" {
		return nil
	}
	return b.opts.Store.SavePost(ctx, Post{Key: personKey(email), State: PostSent, UpdatedAt: b.now()})
}

// unfitPerson says why a Slack user may not act for a configured person,
// or returns "".
func unfitPerson(u *slack.User) string {
	switch {
	case u.Deleted:
		return "deactivated"
	case u.IsBot:
		return "a bot"
	case u.IsRestricted || u.IsUltraRestricted:
		return "a guest"
	}
	return ""
}
