package bot

import (
	"context"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Command implements Dispatcher.
func (b *Bot) Command(ctx context.Context, cmd slack.SlashCommand) Reply { panic("unimplemented") }

// Event implements Dispatcher.
func (b *Bot) Event(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	panic("unimplemented")
}

// Interaction implements Dispatcher.
func (b *Bot) Interaction(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	panic("unimplemented")
}

// addCoreCommands adds help, declare, list and the incident-channel verbs.
func (b *Bot) addCoreCommands() {}
