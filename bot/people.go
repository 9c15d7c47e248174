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
// such person when Warroom starts (key "<email>:<date>": at most once a
// day); inviting someone by email remembers the answer too.
const JobLookUpPerson = "slack.lookup_person"

// LookUpPersonJob is JobLookUpPerson's payload.
type LookUpPersonJob struct {
	Email string `json:"email"`
}

// personKey is the key of the Post that remembers whose email is: its Text
// is the Slack user ID.
func personKey(email string) string { return "slack-user:" + strings.ToLower(strings.TrimSpace(email)) }

// SlackPeople resolves the configured people known by email only to the
// Slack users that Slack said they are (JobLookUpPerson, invites), from the
// store: it never calls Slack. The deploys service uses it to let such a
// person confirm rollbacks as an approver. A person configured with a
// Slack user ID is that user only: SlackPeople does not know them, whatever
// was learned of their email (an invite, an earlier configuration).
func SlackPeople(store Store, people map[string]config.Person) deploys.PeopleResolver {
	return slackPeople{store: store, people: people}
}

type slackPeople struct {
	store  Store
	people map[string]config.Person
}

func (p slackPeople) ActorOf(ctx context.Context, person string) (incidents.Actor, bool, error) {
	cp, ok := p.people[person]
	if !ok || strings.TrimSpace(cp.Slack) != "" || strings.TrimSpace(cp.Email) == "" {
		return "", false, nil
	}
	post, ok, err := p.store.Post(ctx, personKey(cp.Email))
	if err != nil || !ok || !slackUserID.MatchString(post.Text) {
		return "", false, err
	}
	return incidents.SlackActor(post.Text), true, nil
}

// LookUpPeople queues a JobLookUpPerson for each configured person with an
// email and no Slack user ID, at most once a day (restarts on the same day
// queue nothing new). What was learned before stays until a lookup answers
// otherwise.
func (b *Bot) LookUpPeople(ctx context.Context) error {
	day := b.now().UTC().Format(time.DateOnly)
	queued := false
	for _, name := range slices.Sorted(maps.Keys(b.opts.People)) {
		p := b.opts.People[name]
		if strings.TrimSpace(p.Email) == "" || slackUserID.MatchString(p.Slack) {
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
		b.log.Warn("no Slack user has a configured person's email", "email", p.Email)
		return nil
	}
	if err != nil {
		return err
	}
	return b.learnPerson(ctx, p.Email, u.ID)
}

// learnPerson remembers that email is Slack user userID.
func (b *Bot) learnPerson(ctx context.Context, email, userID string) error {
	if email == "" || !slackUserID.MatchString(userID) {
		return nil
	}
	return b.opts.Store.SavePost(ctx, Post{Key: personKey(email), State: PostSent, Text: userID, UpdatedAt: b.now()})
}
