package bot

// The dispatcher: Command (dispatch_command.go), Interaction
// (dispatch_interaction.go) and Event (dispatch_event.go) turn what Slack
// sends into the domain's use cases. Each handler validates, persists
// through incidents.Service or the Store, enqueues jobs for any Web API work
// that follows, and answers at once: Slack gives up after 3 seconds, so no
// handler calls the Web API itself.
//
// What people type reaches the domain as plain text (slackText): Slack's
// markup and escaping end here, and the renderer escapes text again on the
// way out.

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/warroomhq/warroom/incidents"
)

// internalErrorText answers a request that failed for a reason the person
// cannot fix. The error itself is logged, never shown.
const internalErrorText = ":x: Something went wrong; it was logged. Please try again."

// warning formats a message for the person who caused it. The message is
// escaped whole: domain messages quote what people typed.
func warning(msg string) string { return ":warning: " + Escape(msg) }

// isUserError reports whether err is the person's to fix: a command typed
// wrongly, or an error the domain says is the user's.
func isUserError(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue) || incidents.IsUserError(err)
}

// incidentOf returns the incident whose channel is channelID, and false when
// the channel is not an incident's.
func (b *Bot) incidentOf(ctx context.Context, channelID string) (*incidents.Incident, bool, error) {
	if channelID == "" {
		return nil, false, nil
	}
	inc, err := b.opts.Store.IncidentByChannel(ctx, channelID)
	switch {
	case err == nil:
		return inc, true, nil
	case errors.Is(err, incidents.ErrNotFound):
		return nil, false, nil
	}
	return nil, false, err
}

// markup matches one of Slack's control sequences: <@U123|alice>, <#C1>,
// <!here>, <https://example.com|a link>.
var markup = regexp.MustCompile(`<([^<>]*)>`)

// unescapeSlack undoes the only three entities Slack escapes.
var unescapeSlack = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

// slackText turns text as Slack sends it (escaped, with control sequences)
// into the plain text people read: "<@U1|alice>" becomes "@alice",
// "<!channel>" "@channel", "<https://x.io|x.io>" "x.io", and "&lt;" "<".
func slackText(s string) string {
	s = markup.ReplaceAllStringFunc(s, func(m string) string {
		target, label, hasLabel := strings.Cut(m[1:len(m)-1], "|")
		switch {
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
			if hasLabel && label != "" {
				return target[:1] + strings.TrimPrefix(label, target[:1])
			}
			return target
		case strings.HasPrefix(target, "!"):
			// <!here>, <!subteam^S1|@oncall>, <!date^1392734382^{date}|Feb 18>
			if hasLabel && label != "" {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		}
		switch {
		case !hasLabel || label == "":
			return target
		case strings.HasSuffix(target, label):
			return label // Slack linked what was typed: <mailto:a@b.io|a@b.io>
		}
		return label + " (" + target + ")"
	})
	return unescapeSlack(s)
}
