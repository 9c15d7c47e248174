package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
)

// Interaction implements Dispatcher: the summary's status select and resolve
// button, and the declare modal's submission. It returns an error only when
// persisting failed; a person's mistake is answered in Slack.
func (b *Bot) Interaction(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return nil, b.blockActions(ctx, cb)
	case slack.InteractionTypeViewSubmission:
		if cb.View.CallbackID == ViewDeclare {
			return b.submitDeclare(ctx, cb)
		}
	}
	return nil, nil
}

// blockActions runs the buttons and selects of Warroom's messages. A refused
// change (a double click on Resolve) is explained to the person who clicked,
// in an ephemeral message.
func (b *Bot) blockActions(ctx context.Context, cb slack.InteractionCallback) error {
	actor := incidents.SlackActor(cb.User.ID)
	for _, act := range cb.ActionCallback.BlockActions {
		if act == nil {
			continue
		}
		var err error
		switch act.ActionID {
		case ActionStatus:
			id, st, perr := parseStatusValue(act.SelectedOption.Value)
			if perr != nil {
				b.log.WarnContext(ctx, "malformed status select", "value", act.SelectedOption.Value, "err", perr)
				continue
			}
			_, err = b.opts.Incidents.SetStatus(ctx, id, st, actor) // resolved: Resolve
		case ActionResolve:
			id, perr := incidents.ParseID(act.Value)
			if perr != nil {
				b.log.WarnContext(ctx, "malformed resolve button", "value", act.Value, "err", perr)
				continue
			}
			_, err = b.opts.Incidents.Resolve(ctx, id, "", actor)
		case ActionDeclareAlerts:
			err = b.declareAlerts(ctx, act.Value, actor)
		case ActionAcknowledgePage:
			err = b.acknowledgeClick(ctx, cb, act, actor) // paging.go
		default:
			if handled, derr := b.deployAction(ctx, cb, act, actor); handled {
				if derr != nil {
					return derr
				}
				continue
			}
			b.log.DebugContext(ctx, "ignoring a Slack action", "action_id", act.ActionID, "block_id", act.BlockID)
			continue
		}
		if err == nil {
			continue
		}
		if !incidents.IsUserError(err) {
			return fmt.Errorf("slack action %s by %s: %w", act.ActionID, cb.User.ID, err)
		}
		if err := b.tellClicker(ctx, cb, act, err.Error()); err != nil {
			return err
		}
	}
	return nil
}

// parseStatusValue parses a status option's value, "INC-7|monitoring".
func parseStatusValue(v string) (incidents.ID, incidents.Status, error) {
	idText, stText, ok := strings.Cut(v, "|")
	if !ok {
		return 0, "", fmt.Errorf("%q is not <incident>|<status>", v)
	}
	id, err := incidents.ParseID(idText)
	if err != nil {
		return 0, "", err
	}
	st, err := incidents.ParseStatus(stText)
	if err != nil {
		return 0, "", err
	}
	return id, st, nil
}

// tellClicker enqueues an ephemeral warning to the person who clicked, once
// per click.
func (b *Bot) tellClicker(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, msg string) error {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if channel == "" || cb.User.ID == "" {
		b.log.InfoContext(ctx, "refused a click with nowhere to say so", "action_id", act.ActionID, "user", cb.User.ID, "reason", msg)
		return nil
	}
	// The trigger ID is unique per click; a click's action_ts is the
	// fallback. Either makes Slack's retry of the same click say it once.
	click := cb.TriggerID
	if click == "" {
		click = act.ActionTs
	}
	if click == "" {
		click = cb.ActionTs
	}
	if click == "" {
		click = strconv.FormatInt(b.now().UnixNano(), 10)
	}
	return b.enqueueNow(ctx, JobEphemeral, click+":"+act.ActionID, "",
		EphemeralJob{Channel: channel, User: cb.User.ID, Text: warning(msg)})
}

// declareForm is what the declare modal's submission holds.
type declareForm struct {
	title, severity, service, description string
}

// readDeclareForm reads the modal's input blocks. Each block's element has
// the block's ID as its action ID; a block with one element of another ID
// is read too.
func readDeclareForm(st *slack.ViewState) declareForm {
	value := func(block string) slack.BlockAction {
		if st == nil {
			return slack.BlockAction{}
		}
		actions := st.Values[block]
		if a, ok := actions[block]; ok || len(actions) != 1 {
			return a
		}
		for _, a := range actions {
			return a
		}
		return slack.BlockAction{}
	}
	choice := func(a slack.BlockAction) string {
		if a.SelectedOption.Value != "" {
			return a.SelectedOption.Value
		}
		return a.Value
	}
	return declareForm{
		title:       strings.TrimSpace(value(BlockTitle).Value),
		severity:    strings.TrimSpace(choice(value(BlockSeverity))),
		service:     strings.TrimSpace(choice(value(BlockService))),
		description: strings.TrimSpace(value(BlockDescription).Value),
	}
}

// check returns what is wrong with the form, by block ID.
func (b *Bot) checkDeclareForm(f *declareForm) map[string]string {
	errs := map[string]string{}
	switch n := utf8.RuneCountInString(f.title); {
	case n == 0:
		errs[BlockTitle] = "Say in a few words what is wrong."
	case n > incidents.MaxTitleLen:
		errs[BlockTitle] = fmt.Sprintf("Keep the title under %d characters (it has %d); put details in the description.",
			incidents.MaxTitleLen, n)
	}
	if f.severity != "" {
		if _, err := incidents.ParseSeverity(f.severity); err != nil {
			errs[BlockSeverity] = "Pick a severity from SEV1 (worst) to SEV4."
		}
	}
	if f.service != "" {
		name, ok := b.serviceNamed(f.service)
		if !ok {
			errs[BlockService] = fmt.Sprintf("%q is not a configured service.", f.service)
		}
		f.service = name
	}
	return errs
}

// fieldBlocks maps the fields of the domain's validation errors to the
// declare modal's blocks.
var fieldBlocks = map[string]string{
	"title":       BlockTitle,
	"severity":    BlockSeverity,
	"service":     BlockService,
	"description": BlockDescription,
}

// submitDeclare declares an incident from the modal, or answers with the
// errors to show beside its fields. The view ID makes a double submission
// declare once.
func (b *Bot) submitDeclare(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	f := readDeclareForm(cb.View.State)
	if errs := b.checkDeclareForm(&f); len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), nil
	}
	sev, _ := incidents.ParseSeverity(f.severity) // checked; "" is the default
	key := ""
	if cb.View.ID != "" {
		key = "slack-view:" + cb.View.ID
	}
	inc, err := b.opts.Incidents.Declare(ctx, incidents.DeclareInput{
		Title: f.title, Severity: sev, Service: f.service, Description: f.description,
		Lead: cb.User.ID, Actor: incidents.SlackActor(cb.User.ID), Key: key,
	})
	if err != nil {
		var ve *incidents.ValidationError
		if errors.As(err, &ve) {
			block, ok := fieldBlocks[ve.Field]
			if !ok {
				block = BlockTitle
			}
			return slack.NewErrorsViewSubmissionResponse(map[string]string{block: ve.Msg}), nil
		}
		if incidents.IsUserError(err) {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{BlockTitle: err.Error()}), nil
		}
		return nil, fmt.Errorf("declaring from the form of %s: %w", cb.User.ID, err)
	}
	b.log.InfoContext(ctx, "incident declared from the form", "incident", inc.ID.String(), "user", cb.User.ID)
	return nil, nil
}
