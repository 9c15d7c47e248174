package deploys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// The kinds of job through which rollbacks are carried out. Their payload
// is RollbackJob's JSON.
const (
	// JobRollbackStart starts a confirmed rollback at its mechanism, once
	// (key "rollback.start:<id>"; Rollbacker.Start is idempotent by the
	// rollback's Key, for a job that runs again after a lost answer).
	JobRollbackStart = "rollback.start"
	// JobRollbackFollow asks a running rollback's progress, records it,
	// and enqueues the next poll until the rollback is over (key
	// "rollback.follow:<id>:<poll>").
	JobRollbackFollow = "rollback.follow"
)

// RollbackJob is the payload of the rollback jobs.
type RollbackJob struct {
	Rollback int64 `json:"rollback"`
	Poll     int   `json:"poll,omitempty"`
}

// startAttempts bounds the attempts to start a rollback: a rollback that
// cannot start for a few minutes is better reported as failed than started
// much later, when people have moved on.
const startAttempts = 6

// RollbackKey is the stable key of the rollback with id: RollbackRequest.Key
// and what a deploy tool's status callbacks name.
func RollbackKey(id int64) string { return "warroom-rollback-" + strconv.FormatInt(id, 10) }

// RollbackInput asks for a rollback.
type RollbackInput struct {
	Incident incidents.ID
	Service  string
	// ToRef, when set, is the ref or commit SHA (7 characters or more) to
	// go back to; otherwise the last good deploy before the live one.
	ToRef string
	Actor incidents.Actor
	// Key makes proposing idempotent (a retried job): a second request
	// with the same key returns the first rollback.
	Key string
}

// RefusedError is a person who may not confirm (or cancel) a rollback. It
// is recorded on the incident's timeline.
type RefusedError struct {
	Actor    incidents.Actor
	Rollback int64
	Service  string
	// Lead is the incident's lead ("" when nobody leads), Approvers the
	// service's rollback approvers.
	Lead      string
	Approvers []string
	// LeadChanged is set when the service has approvers and the incident's
	// lead is not who led it when the rollback was proposed: then only an
	// approver may confirm.
	LeadChanged bool
}

func (e *RefusedError) Error() string {
	if e.LeadChanged {
		return fmt.Sprintf("Only %s's rollback approvers (%s) may confirm this rollback: the incident's lead changed since it was proposed, and a new lead may confirm only rollbacks proposed while they lead.",
			e.Service, strings.Join(e.Approvers, ", "))
	}
	who := "the incident's lead"
	if e.Lead != "" {
		who += " (" + e.Lead + ")"
	} else {
		who += " (nobody leads it yet)"
	}
	if len(e.Approvers) > 0 {
		who += " or " + e.Service + "'s rollback approvers (" + strings.Join(e.Approvers, ", ") + ")"
	}
	return fmt.Sprintf("Only %s may confirm this rollback.", who)
}

// StateError is a rollback that is no longer where the request expected it
// (confirmed twice, canceled after it started), or, with Other set, a
// rollback that cannot go ahead because another rollback of its service is
// confirmed or running.
type StateError struct {
	// Rollback is the rollback asked about; nil when a proposal was
	// refused because of Other.
	Rollback *Rollback
	Want     RollbackState
	// Other is another rollback of the same service, confirmed or
	// running, that stands in the way.
	Other *Rollback
	// Expired, when not zero, is the age of a proposal confirmed after
	// TTL, which canceled it.
	Expired, TTL time.Duration
}

func (e *StateError) Error() string {
	if o := e.Other; o != nil {
		by := ""
		if o.ConfirmedBy != "" {
			by = " by " + string(o.ConfirmedBy)
		}
		return fmt.Sprintf("Another rollback of %s, to %s in %s, was confirmed%s and is %s; wait for it to end before rolling back again.",
			o.Service, DeployLabel(o.To), o.Incident, by, o.State)
	}
	r := e.Rollback
	if e.Expired > 0 {
		return fmt.Sprintf("This rollback of %s was proposed %s ago and has expired (a proposal holds for %s): what is live may have changed since. Propose it again if it is still needed: /incident rollback %s",
			r.Service, incidents.FormatDuration(e.Expired), incidents.FormatDuration(e.TTL), r.Service)
	}
	switch r.State {
	case RollbackCanceled:
		return fmt.Sprintf("This rollback of %s was canceled.", r.Service)
	case RollbackProposed:
		return fmt.Sprintf("This rollback of %s has not been confirmed yet.", r.Service)
	}
	by := ""
	if r.ConfirmedBy != "" {
		by = " by " + string(r.ConfirmedBy)
	}
	return fmt.Sprintf("This rollback of %s was already confirmed%s; it is %s.", r.Service, by, r.State)
}

// ProposedError is a proposal refused because the same incident already
// has a rollback of the service waiting for confirmation: Rollback is that
// open proposal, which RequestRollback returns along with this error.
type ProposedError struct {
	Rollback *Rollback
}

func (e *ProposedError) Error() string {
	r := e.Rollback
	return fmt.Sprintf("A rollback of %s from %s to %s was already proposed by %s and waits for a confirmation; confirm or cancel it before proposing another.",
		r.Service, fromLabel(r), DeployLabel(r.To), r.ProposedBy)
}

// IsUserError reports whether err is the person's to know about (a refusal,
// a rollback in another state, bad input) rather than a fault of Warroom's.
func IsUserError(err error) bool {
	var r *RefusedError
	var st *StateError
	var pr *ProposedError
	var fr *FreezeRefusedError
	return errors.As(err, &r) || errors.As(err, &st) || errors.As(err, &pr) || errors.As(err, &fr) || incidents.IsUserError(err)
}

// RequestRollback proposes a rollback of a service in an incident: what is
// live now back to in.ToRef, or to the last good deploy before it. The
// proposal is stored and recorded on the timeline; nothing happens until it
// is confirmed. It reads the service's providers, so it runs in a job, not
// in a request.
//
// One rollback of a service is open at a time per incident: when the
// incident already has a proposal for the service waiting, RequestRollback
// creates none and returns that proposal with a *ProposedError; when a
// rollback of the service is confirmed or running (in any incident), it
// fails with a *StateError naming it. A request with the Key of an earlier
// one (a retried job) returns the earlier rollback.
func (s *Service) RequestRollback(ctx context.Context, in RollbackInput) (*Rollback, error) {
	in.Service, in.ToRef = strings.TrimSpace(in.Service), strings.TrimSpace(in.ToRef)
	cfg, err := s.service(in.Service)
	if err != nil {
		return nil, err
	}
	if cfg.Rollbacker == nil {
		return nil, &incidents.ValidationError{Field: "service", Msg: fmt.Sprintf(
			"%s has no rollback configured; set services.%s.rollback in warroom.yaml.", in.Service, in.Service)}
	}
	if utf8Len(in.ToRef) > maxDeployField {
		return nil, &incidents.ValidationError{Field: "ref", Msg: "that ref is too long"}
	}
	if _, err := s.opts.Incidents.Get(ctx, in.Incident); err != nil {
		return nil, err
	}
	rec, err := s.Recent(ctx, in.Service, 0)
	if err != nil {
		return nil, err
	}
	r := &Rollback{Incident: in.Incident, Service: in.Service, Mechanism: cfg.Rollbacker.Mechanism(),
		State: RollbackProposed, ProposedBy: in.Actor, ProposedAt: s.now(), UpdatedAt: s.now()}
	if rec.Live != nil {
		r.From = *rec.Live
	}
	switch {
	case in.ToRef != "":
		if rec.Live != nil && matchesRef(*rec.Live, in.ToRef) {
			return nil, &incidents.ValidationError{Field: "ref", Msg: fmt.Sprintf("%s is what is live now.", DeployLabel(*rec.Live))}
		}
		i := slices.IndexFunc(rec.Deploys, func(d Deploy) bool {
			return d.Live() && matchesRef(d, in.ToRef) && (rec.Live == nil || !sameVersion(d, *rec.Live))
		})
		if i >= 0 {
			r.To = rec.Deploys[i]
		} else {
			r.To = Deploy{Service: in.Service, Environment: cfg.Environment, Ref: in.ToRef}
		}
	case rec.LastGood != nil:
		r.To = *rec.LastGood
	default:
		msg := fmt.Sprintf("No earlier good deploy of %s is known, so Warroom cannot tell what to roll back to. Say which version: /incident rollback %s to <ref>", in.Service, in.Service)
		for _, e := range rec.Errors {
			msg += "\n" + e.Error()
		}
		return nil, &incidents.ValidationError{Field: "ref", Msg: msg}
	}
	var (
		existed     bool
		open        *Rollback
		expiredOpen []*Rollback
	)
	err = s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		active, err := tx.ActiveRollbacks(ctx, r.Service)
		if err != nil {
			return err
		}
		for _, a := range active {
			if in.Key != "" && a.ProposeKey == in.Key {
				r, existed = a, true // a retried request
				return nil
			}
		}
		for _, a := range active {
			switch {
			case a.State != RollbackProposed:
				return &StateError{Want: RollbackProposed, Other: a}
			case a.Incident != r.Incident:
			case s.now().Sub(a.ProposedAt) > s.opts.ProposalTTL:
				if err := s.expire(ctx, tx, a); err != nil {
					return err
				}
				expiredOpen = append(expiredOpen, a)
			default:
				open = a
				return nil
			}
		}
		inc, err := tx.Incident(ctx, r.Incident)
		if err != nil {
			return err
		}
		r.ProposedLead = inc.Lead()
		stored, ex, err := tx.InsertRollback(ctx, r, in.Key)
		if err != nil || ex {
			r, existed = stored, ex
			return err
		}
		r.Key = RollbackKey(r.ID)
		if err := tx.UpdateRollback(ctx, r); err != nil {
			return err
		}
		if err := s.queueExpiry(ctx, tx, r); err != nil {
			return err
		}
		text := fmt.Sprintf("Proposed rolling back %s from %s to %s through %s", r.Service, fromLabel(r), DeployLabel(r.To), r.Mechanism)
		_, err = s.opts.Incidents.RecordTx(ctx, tx, r.Incident, in.Actor, s.rollbackEvent(r, EventRollbackProposed, text))
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, a := range expiredOpen {
		s.opts.OnOutcome(a.Mechanism, RollbackCanceled)
	}
	if open != nil {
		return open, &ProposedError{Rollback: open}
	}
	if !existed {
		s.opts.Notify()
	}
	return r, nil
}

func utf8Len(s string) int { return len([]rune(s)) }

func fromLabel(r *Rollback) string {
	if r.From.Ref == "" && r.From.SHA == "" {
		return "what is live now (unknown)"
	}
	return DeployLabel(r.From)
}

// rollbackEvent is a timeline event about r.
func (s *Service) rollbackEvent(r *Rollback, kind incidents.EventKind, text string) incidents.Event {
	data := map[string]any{
		"rollback_id": r.ID, "service": r.Service, "mechanism": string(r.Mechanism), "state": string(r.State),
		"from_ref": r.From.Ref, "from_sha": r.From.SHA, "to_ref": r.To.Ref, "to_sha": r.To.SHA,
		"proposed_by": string(r.ProposedBy),
	}
	if r.URL != "" {
		data["url"] = r.URL
	}
	if r.Message != "" {
		data["message"] = r.Message
	}
	return incidents.Event{Kind: kind, Text: text, Data: data}
}

// Rollback returns one rollback.
func (s *Service) Rollback(ctx context.Context, id int64) (*Rollback, error) {
	return s.opts.Store.Rollback(ctx, id)
}

// Rollbacks lists an incident's rollbacks, oldest first.
func (s *Service) Rollbacks(ctx context.Context, inc incidents.ID) ([]*Rollback, error) {
	return s.opts.Store.Rollbacks(ctx, inc)
}

// isPerson reports whether actor is person: a configured person's name
// (known by Options.People, else by Options.Resolver) or a Slack user ID.
// A person that Options.People knows is that actor only: the Resolver,
// which learns from email lookups, never adds another.
func (s *Service) isPerson(ctx context.Context, person string, actor incidents.Actor) bool {
	if person == "" || actor == "" {
		return false
	}
	if a, ok := s.opts.People[person]; ok {
		return a == actor
	}
	if actor == incidents.SlackActor(person) || actor == incidents.Actor(person) {
		return true
	}
	return s.resolvedPerson(ctx, person, actor)
}

// samePerson reports whether two people's names (or Slack IDs) name the
// same person.
func (s *Service) samePerson(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	actorOf := func(p string) incidents.Actor {
		if act, ok := s.opts.People[p]; ok {
			return act
		}
		return incidents.SlackActor(p)
	}
	return actorOf(a) == actorOf(b)
}

// mayDecide reports whether actor may confirm r (or, with confirm false,
// cancel it): the service's rollback approvers may, and the incident's
// lead. When the service has approvers, the lead may confirm only a
// rollback proposed while they led: taking the lead (which anyone may) does
// not let one confirm a rollback alone. leadChanged reports that case.
func (s *Service) mayDecide(ctx context.Context, inc *incidents.Incident, r *Rollback, actor incidents.Actor, confirm bool) (ok, leadChanged bool) {
	approvers := s.opts.Services[r.Service].Approvers
	if slices.ContainsFunc(approvers, func(p string) bool { return s.isPerson(ctx, p, actor) }) {
		return true, false
	}
	if !s.isPerson(ctx, inc.Lead(), actor) {
		return false, false
	}
	if !confirm || len(approvers) == 0 || s.samePerson(r.ProposedLead, inc.Lead()) {
		return true, false
	}
	return false, true
}

// ConfirmRollback confirms a proposed rollback and queues its start, once:
// a second confirmation (a double click, two people at once) finds it
// confirmed and fails with a StateError. Only the incident's lead and the
// service's rollback approvers may confirm; anyone else gets a
// RefusedError, and the refusal is recorded on the timeline.
func (s *Service) ConfirmRollback(ctx context.Context, id int64, actor incidents.Actor) (*Rollback, error) {
	return s.decide(ctx, id, actor, true)
}

// CancelRollback cancels a proposed rollback. The lead, the approvers and
// whoever proposed it may cancel it.
func (s *Service) CancelRollback(ctx context.Context, id int64, actor incidents.Actor) (*Rollback, error) {
	return s.decide(ctx, id, actor, false)
}

func (s *Service) decide(ctx context.Context, id int64, actor incidents.Actor, confirm bool) (*Rollback, error) {
	var (
		out     *Rollback
		refused *RefusedError
		expired *StateError
	)
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.Rollback(ctx, id)
		if err != nil {
			return err
		}
		inc, err := tx.Incident(ctx, r.Incident)
		if err != nil {
			return err
		}
		if ok, leadChanged := s.mayDecide(ctx, inc, r, actor, confirm); !ok && (confirm || actor != r.ProposedBy) {
			refused = &RefusedError{Actor: actor, Rollback: r.ID, Service: r.Service, Lead: inc.Lead(),
				Approvers: s.opts.Services[r.Service].Approvers, LeadChanged: leadChanged}
			verb := "confirm"
			if !confirm {
				verb = "cancel"
			}
			ev := s.rollbackEvent(r, EventRollbackRefused, fmt.Sprintf("Refused to let %s %s the rollback of %s to %s: %s",
				actor, verb, r.Service, DeployLabel(r.To), refused.Error()))
			ev.Data["refused"] = string(actor)
			_, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, actor, ev)
			return err // the refusal is committed
		}
		if r.State != RollbackProposed {
			return &StateError{Rollback: r, Want: RollbackProposed}
		}
		if age := s.now().Sub(r.ProposedAt); confirm && age > s.opts.ProposalTTL {
			expired = &StateError{Rollback: r, Want: RollbackProposed, Expired: age, TTL: s.opts.ProposalTTL}
			return s.expire(ctx, tx, r) // committed: it is canceled
		}
		if confirm {
			// In the same write transaction as the update below: of two
			// proposals confirmed at once, the second sees the first.
			active, err := tx.ActiveRollbacks(ctx, r.Service)
			if err != nil {
				return err
			}
			for _, a := range active {
				if a.ID != r.ID && (a.State == RollbackConfirmed || a.State == RollbackRunning) {
					return &StateError{Rollback: r, Want: RollbackProposed, Other: a}
				}
			}
		}
		now := s.now()
		var text string
		var kind incidents.EventKind
		if confirm {
			r.State, r.ConfirmedBy, r.ConfirmedAt, r.UpdatedAt = RollbackConfirmed, actor, now, now
			kind = EventRollbackConfirmed
			text = fmt.Sprintf("Confirmed rolling back %s from %s to %s through %s", r.Service, fromLabel(r), DeployLabel(r.To), r.Mechanism)
		} else {
			r.State, r.FinishedAt, r.UpdatedAt = RollbackCanceled, now, now
			kind = EventRollbackCanceled
			text = fmt.Sprintf("Canceled the proposed rollback of %s to %s", r.Service, DeployLabel(r.To))
		}
		// Conditional on the version read above: of two confirmations, one
		// changes the row and the other fails here or above.
		if err := tx.UpdateRollback(ctx, r); err != nil {
			return err
		}
		if confirm {
			if err := enqueueRollbackJob(ctx, tx, JobRollbackStart, fmt.Sprint(r.ID), RollbackJob{Rollback: r.ID}, time.Time{}, startAttempts); err != nil {
				return err
			}
		}
		ev := s.rollbackEvent(r, kind, text)
		ev.Data[DataDecision] = string(DecisionCanceled)
		if confirm {
			ev.Data[DataDecision] = string(DecisionConfirmed)
		}
		if _, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, actor, ev); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.opts.Notify()
	if refused != nil {
		return nil, refused
	}
	if expired != nil {
		s.opts.OnOutcome(expired.Rollback.Mechanism, RollbackCanceled)
		return nil, expired
	}
	if out.State.Done() {
		s.opts.OnOutcome(out.Mechanism, out.State)
	}
	return out, nil
}

// expire cancels a proposal that was not confirmed within ProposalTTL.
func (s *Service) expire(ctx context.Context, tx Tx, r *Rollback) error {
	now := s.now()
	r.State, r.FinishedAt, r.UpdatedAt = RollbackCanceled, now, now
	r.Message = fmt.Sprintf("not confirmed within %s", incidents.FormatDuration(s.opts.ProposalTTL))
	if err := tx.UpdateRollback(ctx, r); err != nil {
		return err
	}
	text := fmt.Sprintf("The proposed rollback of %s to %s expired: it was not confirmed within %s",
		r.Service, DeployLabel(r.To), incidents.FormatDuration(s.opts.ProposalTTL))
	ev := s.rollbackEvent(r, EventRollbackCanceled, text)
	ev.Data["expired"] = true
	ev.Data[DataDecision] = string(DecisionExpired)
	ev.Data["ttl_seconds"] = int64(s.opts.ProposalTTL / time.Second)
	_, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, incidents.System, ev)
	return err
}

func enqueueRollbackJob(ctx context.Context, e jobs.Enqueuer, kind, key string, p RollbackJob, runAt time.Time, attempts int) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = e.Enqueue(ctx, jobs.NewJob{Kind: kind, Key: kind + ":" + key, Payload: data, RunAt: runAt, MaxAttempts: attempts})
	return err
}

func decodeJob(j jobs.Job) (RollbackJob, error) {
	var p RollbackJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, jobs.Permanent(fmt.Errorf("decoding %s payload: %w", j.Kind, err))
	}
	return p, nil
}

// RegisterJobs registers the rollback jobs' handlers with the queue.
func (s *Service) RegisterJobs(q interface {
	Handle(kind string, h jobs.Handler)
}) {
	q.Handle(JobRollbackStart, jobs.HandlerFunc(s.HandleStart))
	q.Handle(JobRollbackFollow, jobs.HandlerFunc(s.HandleFollow))
	q.Handle(JobRollbackExpire, jobs.HandlerFunc(s.HandleExpire))
	q.Handle(JobSnapshot, jobs.HandlerFunc(s.HandleSnapshot))
}

// HandleStart runs JobRollbackStart: it starts the confirmed rollback at its
// mechanism and queues its first poll. A start that fails for good (or on
// its last attempt) fails the rollback, saying what failed.
func (s *Service) HandleStart(ctx context.Context, j jobs.Job) error {
	p, err := decodeJob(j)
	if err != nil {
		return err
	}
	r, err := s.opts.Store.Rollback(ctx, p.Rollback)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if !startable(r) {
		return nil // started by an earlier attempt, or over
	}
	rb := s.opts.Services[r.Service].Rollbacker
	if rb == nil {
		return s.failStart(ctx, r, errors.New("no rollback is configured for the service any more"))
	}
	if stale, err := s.liveChanged(ctx, r, j.Attempt); err != nil {
		return err
	} else if stale != "" {
		return s.endStart(ctx, r, stale)
	}
	h, err := rb.Start(ctx, r.Request())
	if err != nil {
		if _, deferred := jobs.DeferOf(err); !deferred && (jobs.IsPermanent(err) || j.Attempt >= j.MaxAttempts) {
			return s.failStart(ctx, r, err)
		}
		return err
	}
	err = s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.Rollback(ctx, p.Rollback)
		if err != nil || !startable(r) {
			return err
		}
		now := s.now()
		r.State, r.Handle, r.StartedAt, r.UpdatedAt = RollbackRunning, h, now, now
		if h.URL != "" {
			r.URL = h.URL
		}
		if err := tx.UpdateRollback(ctx, r); err != nil {
			return err
		}
		text := fmt.Sprintf("Started rolling back %s to %s through %s", r.Service, DeployLabel(r.To), r.Mechanism)
		if _, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, incidents.System, s.rollbackEvent(r, EventRollbackStarted, text)); err != nil {
			return err
		}
		return s.queuePoll(ctx, tx, r, 1)
	})
	if err == nil {
		s.opts.Notify()
	}
	return err
}

// liveChanged reads what is live now and, when it is no longer what the
// rollback goes back from, says so. On a retried start, the target being
// live is no change: it may be this rollback's own doing.
func (s *Service) liveChanged(ctx context.Context, r *Rollback, attempt int) (string, error) {
	if r.From.Ref == "" && r.From.SHA == "" {
		return "", nil // it was not known when proposed
	}
	rec, err := s.Recent(ctx, r.Service, 0)
	if err != nil {
		return "", err
	}
	live := rec.Live
	if live == nil || sameVersion(*live, r.From) || (attempt > 1 && sameVersion(*live, r.To)) {
		return "", nil
	}
	if sameVersion(*live, r.To) {
		return fmt.Sprintf("Rollback of %s to %s was not started: %s is live already. Nothing was rolled back.",
			r.Service, DeployLabel(r.To), DeployLabel(*live)), nil
	}
	return fmt.Sprintf("Rollback of %s to %s was not started: what is live changed since it was proposed (%s then, %s now). Nothing was rolled back; propose it again if it is still needed: /incident rollback %s",
		r.Service, DeployLabel(r.To), DeployLabel(r.From), DeployLabel(*live), r.Service), nil
}

// endStart fails a confirmed rollback that Warroom decided not to start,
// saying why (text).
func (s *Service) endStart(ctx context.Context, r *Rollback, text string) error {
	return s.end(ctx, r.ID, startable, RollbackFailed, EventRollbackFailed, func(*Rollback) (string, string) { return text, text })
}

// startable reports whether r waits for its start: confirmed, or running
// already by its tool's callback but not yet recorded as started.
func startable(r *Rollback) bool {
	return r.State == RollbackConfirmed || (r.State == RollbackRunning && r.StartedAt.IsZero())
}

// queuePoll queues the next JobRollbackFollow of r. A webhook rollback is
// not polled: its tool reports progress with status callbacks, so its only
// follow job runs once FollowFor has passed, to give up on it.
func (s *Service) queuePoll(ctx context.Context, tx Tx, r *Rollback, poll int) error {
	at := s.now().Add(s.opts.FollowEvery)
	if r.Mechanism == MechanismWebhook {
		at = r.StartedAt.Add(s.opts.FollowFor + s.opts.FollowEvery)
	}
	return enqueueRollbackJob(ctx, tx, JobRollbackFollow, fmt.Sprintf("%d:%d", r.ID, poll),
		RollbackJob{Rollback: r.ID, Poll: poll}, at, 0)
}

func notFoundIsPermanent(err error) error {
	if errors.Is(err, incidents.ErrNotFound) {
		return jobs.Permanent(err)
	}
	return err
}

// failStart records that a confirmed rollback could not be started. When
// the cause is not a refusal (the last attempt's answer was lost: a
// timeout, a 5xx), the mechanism may have started it: the message says so
// and where to check.
func (s *Service) failStart(ctx context.Context, r *Rollback, cause error) error {
	s.opts.Logger.Error("starting a rollback failed", "rollback", r.ID, "incident", r.Incident, "service", r.Service,
		"mechanism", r.Mechanism, "error", cause)
	mayHaveStarted := !jobs.IsPermanent(cause)
	return s.end(ctx, r.ID, startable, RollbackFailed, EventRollbackFailed, func(r *Rollback) (string, string) {
		msg := fmt.Sprintf("Warroom could not start it through %s: %v", r.Mechanism, cause)
		if mayHaveStarted {
			return msg, fmt.Sprintf("Rollback of %s to %s may not have started: %s. The last attempt's answer was lost, so it may have started anyway: check %s (look for %s) before rolling back again, and Warroom's log (job %s:%d).",
				r.Service, DeployLabel(r.To), msg, where(r), r.Key, JobRollbackStart, r.ID)
		}
		return msg, fmt.Sprintf("Rollback of %s to %s failed to start. %s. Nothing was rolled back; check services.%s.rollback in warroom.yaml and Warroom's log (job %s:%d).",
			r.Service, DeployLabel(r.To), msg, r.Service, JobRollbackStart, r.ID)
	})
}

// HandleFollow runs JobRollbackFollow: it asks the rollback's progress,
// records what changed, and queues the next poll until the rollback is over
// or has been followed for FollowFor.
func (s *Service) HandleFollow(ctx context.Context, j jobs.Job) error {
	p, err := decodeJob(j)
	if err != nil {
		return err
	}
	r, err := s.opts.Store.Rollback(ctx, p.Rollback)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if r.State != RollbackRunning {
		return nil
	}
	rb := s.opts.Services[r.Service].Rollbacker
	if rb == nil {
		return jobs.Permanent(fmt.Errorf("rollback %d: no rollback is configured for %s any more", r.ID, r.Service))
	}
	if s.now().Sub(r.StartedAt) > s.opts.FollowFor {
		return s.giveUp(ctx, r, fmt.Sprintf("it has not finished after %s", incidents.FormatDuration(s.opts.FollowFor)))
	}
	if r.Mechanism == MechanismWebhook {
		// Not polled (see queuePoll); a job from before that rule waits.
		return s.opts.Store.WithDeployTx(ctx, func(tx Tx) error { return s.queuePoll(ctx, tx, r, p.Poll+1) })
	}
	prog, err := rb.Progress(ctx, r.Request(), r.Handle)
	if err != nil {
		if _, deferred := jobs.DeferOf(err); !deferred && (jobs.IsPermanent(err) || j.Attempt >= j.MaxAttempts) {
			return s.giveUp(ctx, r, fmt.Sprintf("asking %s how it goes failed: %v", r.Mechanism, err))
		}
		return err
	}
	var ended *Rollback
	err = s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.Rollback(ctx, p.Rollback)
		if err != nil || r.State != RollbackRunning {
			return err
		}
		if err := s.applyProgress(ctx, tx, r, prog); err != nil {
			return err
		}
		if r.State.Done() {
			ended = r
			return nil
		}
		return s.queuePoll(ctx, tx, r, p.Poll+1)
	})
	if err == nil {
		s.opts.Notify()
		if ended != nil {
			s.opts.OnOutcome(ended.Mechanism, ended.State)
		}
	}
	return err
}

// giveUp stops following a running rollback: its state becomes unknown,
// and the message says where to look for how it ended.
func (s *Service) giveUp(ctx context.Context, r *Rollback, why string) error {
	running := func(r *Rollback) bool { return r.State == RollbackRunning }
	return s.end(ctx, r.ID, running, RollbackUnknown, EventRollbackUnknown, func(r *Rollback) (string, string) {
		return fmt.Sprintf("Warroom stopped following it: %s. Look at %s to see how it ended.", why, where(r)),
			fmt.Sprintf("Warroom stopped following the rollback of %s to %s: %s. Whether it worked is unknown; look at %s to see how it ended.",
				r.Service, DeployLabel(r.To), why, where(r))
	})
}

// end moves rollback id, while from holds for it, to the final state with
// the message and timeline text that describe writes (given the rollback as
// stored), in one transaction with its event; then it wakes the queue and
// counts the outcome. A rollback that moved on meanwhile is left alone.
func (s *Service) end(ctx context.Context, id int64, from func(*Rollback) bool, state RollbackState, kind incidents.EventKind,
	describe func(r *Rollback) (message, text string)) error {
	var ended *Rollback
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.Rollback(ctx, id)
		if err != nil || !from(r) {
			return err
		}
		now := s.now()
		r.State, r.FinishedAt, r.UpdatedAt = state, now, now
		var text string
		r.Message, text = describe(r)
		if err := tx.UpdateRollback(ctx, r); err != nil {
			return err
		}
		if _, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, incidents.System, s.rollbackEvent(r, kind, text)); err != nil {
			return err
		}
		ended = r
		return nil
	})
	if err != nil {
		return err
	}
	s.opts.Notify()
	if ended != nil {
		s.opts.OnOutcome(ended.Mechanism, state)
	}
	return nil
}

// where says where to look at a rollback.
func where(r *Rollback) string {
	if r.URL != "" {
		return r.URL
	}
	if r.Handle.URL != "" {
		return r.Handle.URL
	}
	return "the " + string(r.Mechanism) + " of " + r.Service
}

// stateOf maps a rollback's reported status to its state.
func stateOf(st Status) RollbackState {
	switch st {
	case StatusSuccess, StatusInactive:
		return RollbackSucceeded
	case StatusFailed:
		return RollbackFailed
	case StatusCanceled:
		return RollbackCanceled
	}
	return RollbackRunning
}

// applyProgress records p on r in tx: the state, the message and the handle,
// and an event on the timeline when the state or the message changed.
// Progress with an unknown status is no news: it changes nothing.
func (s *Service) applyProgress(ctx context.Context, tx Tx, r *Rollback, p Progress) error {
	if p.Status == StatusUnknown || p.Status == "" {
		return nil
	}
	handleChanged := p.Handle != (Handle{}) && p.Handle != r.Handle
	if handleChanged {
		r.Handle = p.Handle
	}
	url := r.URL
	switch {
	case p.URL != "":
		url = p.URL
	case handleChanged && p.Handle.URL != "":
		url = p.Handle.URL
	case url == "":
		url = r.Handle.URL
	}
	state := stateOf(p.Status)
	msg := strings.TrimSpace(p.Message)
	if utf8Len(msg) > maxDeployText {
		msg = string([]rune(msg)[:maxDeployText])
	}
	changed := state != r.State || msg != r.Message
	if !changed && !handleChanged && url == r.URL {
		return nil
	}
	now := s.now()
	r.State, r.Message, r.URL, r.UpdatedAt = state, msg, url, now
	if state.Done() {
		r.FinishedAt = now
	}
	if err := tx.UpdateRollback(ctx, r); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	var kind incidents.EventKind
	var text string
	to := DeployLabel(r.To)
	switch state {
	case RollbackSucceeded:
		kind = EventRollbackSucceeded
		text = fmt.Sprintf("Rolled back %s to %s through %s", r.Service, to, r.Mechanism)
		if !r.StartedAt.IsZero() {
			text += " in " + incidents.FormatDuration(now.Sub(r.StartedAt))
		}
	case RollbackFailed:
		kind = EventRollbackFailed
		what := msg
		if what == "" {
			what = "the " + string(r.Mechanism) + " reported a failure without saying why"
		}
		text = fmt.Sprintf("Rollback of %s to %s failed: %s. Look at %s", r.Service, to, what, where(r))
	case RollbackCanceled:
		kind = EventRollbackCanceled
		text = fmt.Sprintf("Rollback of %s to %s was canceled at its %s", r.Service, to, r.Mechanism)
	default:
		kind = EventRollbackProgress
		text = fmt.Sprintf("Rollback of %s to %s is running", r.Service, to)
		if msg != "" {
			text += ": " + msg
		}
	}
	_, err := s.opts.Incidents.RecordTx(ctx, tx, r.Incident, incidents.System, s.rollbackEvent(r, kind, text))
	return err
}

// RecordRollbackProgress records a deploy tool's status callback for
// service's webhook rollback with key. The key of another service's
// rollback, or of one through another mechanism, is not found: a tool
// trusted for one service cannot change another's rollbacks. A callback
// for a rollback that is over changes nothing (a retried callback), except
// one Warroom stopped following (unknown), whose outcome it records; one for
// a rollback that was never confirmed is refused.
func (s *Service) RecordRollbackProgress(ctx context.Context, service, key string, p Progress) error {
	var ended *Rollback
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.RollbackByKey(ctx, key)
		if err != nil {
			return err
		}
		if r.Service != service || r.Mechanism != MechanismWebhook {
			return fmt.Errorf("webhook rollback %s of %s: %w", key, service, incidents.ErrNotFound)
		}
		switch {
		case r.State == RollbackUnknown:
			// Warroom gave up following it; the tool still says how it
			// ended. Its outcome was counted as unknown already.
			return s.applyProgress(ctx, tx, r, p)
		case r.State.Done():
			return nil
		case r.State == RollbackProposed:
			return &incidents.ValidationError{Field: "key", Msg: fmt.Sprintf("rollback %s was not confirmed; there is no progress to record", key)}
		}
		if err := s.applyProgress(ctx, tx, r, p); err != nil {
			return err
		}
		if r.State.Done() {
			ended = r
		}
		return nil
	})
	if err == nil {
		s.opts.Notify()
		if ended != nil {
			s.opts.OnOutcome(ended.Mechanism, ended.State)
		}
	}
	return err
}
