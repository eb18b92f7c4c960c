package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/countersign/countersign"
)

// NotifyAttempts is how many times a notice is tried before its failure is
// recorded and the review goes on without it; the workflow's retry policy
// for Notify allows exactly this many.
const NotifyAttempts = 5

// NotifyInput is one notice about a review. The workflow says what to tell
// and to whom; the activity loads the rest.
type NotifyInput struct {
	Step     Step                   `json:"step"`
	Kind     countersign.NoticeKind `json:"kind"`
	ReviewID string                 `json:"review_id"`
	// To is the audience; nil leaves it to the notifier's default.
	To *countersign.Audience `json:"to,omitempty"`
	// Ref is the message posted when the review opened, for later notices.
	Ref *countersign.NoticeRef `json:"ref,omitempty"`
	// Outcome says, in words, how a closed or held review stands.
	Outcome string `json:"outcome,omitempty"`
	// At is workflow time, so that a retry builds the same notice.
	At time.Time `json:"at"`
}

// Notify tells people about a review through each notifier (Slack, then
// e-mail) and records that it did, with the message Slack posted, or that
// it could not: a notifier that fails for NotifyAttempts attempts is
// recorded as failed and the review goes on. A channel delivered on one
// attempt is not sent again on the next (send). Without a notifier, an
// opening or closing notice does nothing; a reminder or an escalation is
// still recorded, as a step of the SLA, with notified false.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) (*countersign.NoticeRef, error) {
	event := noticeEvent(in.Kind)
	channels := a.channels()
	if len(channels) == 0 && event == countersign.EventReviewNotified {
		return nil, nil
	}
	// A retry after the notice was recorded must not tell people again.
	if e, err := a.recordedEvent(ctx, in.Step); err != nil || e != nil {
		return recordedRef(e), err
	}
	data := map[string]any{"kind": in.Kind, "review_id": in.ReviewID, "notified": false}
	if in.To != nil {
		data["to"] = in.To
	}
	if in.Outcome != "" {
		data["outcome"] = in.Outcome
	}
	var ref *countersign.NoticeRef
	if len(channels) > 0 {
		delivered, err := a.send(ctx, in, channels)
		if err != nil && int(activity.GetInfo(ctx).Attempt) < NotifyAttempts {
			return nil, err
		}
		if err != nil {
			a.logger().Warn("notice not delivered", "review", in.ReviewID, "kind", in.Kind, "error", err)
			data["error"] = err.Error()
		}
		data["notified"] = len(delivered) > 0
		if len(channels) > 1 {
			states := map[string]string{}
			for _, c := range channels {
				states[c.name] = "failed"
				if _, ok := delivered[c.name]; ok {
					states[c.name] = "delivered"
				}
			}
			data["channels"] = states
		}
		if ref = delivered[channels[0].name]; ref != nil {
			data["ref"] = ref
		}
	}
	if err := a.record(ctx, in.Step, event, countersign.SystemActor, countersign.ChannelWorkflow, data); err != nil {
		return nil, err
	}
	return ref, nil
}

// channel is a notifier and the name its deliveries are kept under.
type channel struct {
	name     string
	notifier countersign.Notifier
}

// channels are the notifiers notices go through: Slack first (its message
// is the one later notices thread under), then e-mail.
func (a *Activities) channels() []channel {
	var out []channel
	if a.Notifier != nil {
		out = append(out, channel{"slack", a.Notifier})
	}
	if a.Mail != nil {
		out = append(out, channel{"email", a.Mail})
	}
	return out
}

// send builds the notice and hands it to each channel not yet delivered in
// this activity, at once, so that a channel that hangs does not starve the
// other; what each delivered is kept in the heartbeat, so that a retry
// (after another channel failed, or after the recording failed) sends
// only what did not go out. The channels stop a few seconds before the
// attempt's deadline, to leave it time to record. It returns what was
// delivered, by channel, and what failed.
func (a *Activities) send(ctx context.Context, in NotifyInput, channels []channel) (map[string]*countersign.NoticeRef, error) {
	delivered := deliveredBefore(ctx)
	var pending []channel
	for _, c := range channels {
		if _, ok := delivered[c.name]; !ok {
			pending = append(pending, c)
		}
	}
	if len(pending) == 0 {
		return delivered, nil
	}
	n, err := a.notice(ctx, in)
	if err != nil {
		return delivered, err
	}
	sendCtx := ctx
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 2*recordMargin {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithDeadline(ctx, deadline.Add(-recordMargin))
		defer cancel()
	}
	type result struct {
		ref *countersign.NoticeRef
		err error
	}
	results := make([]result, len(pending))
	var wg sync.WaitGroup
	for i, c := range pending {
		wg.Go(func() {
			ref, err := c.notifier.Notify(sendCtx, n)
			results[i] = result{ref, err}
		})
	}
	wg.Wait()
	var errs []error
	for i, c := range pending {
		if err := results[i].err; err != nil {
			if len(channels) > 1 {
				err = fmt.Errorf("%s: %w", c.name, err)
			}
			errs = append(errs, err)
			continue
		}
		delivered[c.name] = results[i].ref
	}
	var beat []channelRef
	for name, ref := range delivered {
		beat = append(beat, channelRef{Channel: name, Ref: ref})
	}
	if len(beat) > 0 {
		activity.RecordHeartbeat(ctx, beat)
	}
	return delivered, errors.Join(errs...)
}

// recordMargin is how long before an attempt's deadline the channels stop,
// so that what they did can still be recorded.
const recordMargin = 3 * time.Second

// channelRef is one channel's delivery, as the heartbeat keeps it: a list
// of them, a shape a worker from before e-mail fails to read (and so sends
// again) rather than mistakes for Slack's message.
type channelRef struct {
	Channel string                 `json:"channel_name"`
	Ref     *countersign.NoticeRef `json:"ref"`
}

// deliveredBefore reads what earlier attempts of this activity delivered,
// from its heartbeat: a list of channelRef, or, from a worker from before
// e-mail, Slack's message alone (null when Slack answered none).
func deliveredBefore(ctx context.Context) map[string]*countersign.NoticeRef {
	delivered := map[string]*countersign.NoticeRef{}
	if !activity.HasHeartbeatDetails(ctx) {
		return delivered
	}
	var beat []channelRef
	if err := activity.GetHeartbeatDetails(ctx, &beat); err == nil {
		if beat == nil {
			delivered["slack"] = nil // an old heartbeat of a message-less notice
		}
		for _, c := range beat {
			delivered[c.Channel] = c.Ref
		}
		return delivered
	}
	var ref *countersign.NoticeRef
	if activity.GetHeartbeatDetails(ctx, &ref) == nil {
		delivered["slack"] = ref
	}
	return delivered
}

// notice loads what a notice shows: the review, the document, the task
// type's title and, for a closed review, its decisions.
func (a *Activities) notice(ctx context.Context, in NotifyInput) (countersign.Notice, error) {
	r, err := a.Store.GetReview(ctx, in.ReviewID)
	if err != nil {
		return countersign.Notice{}, retryable(err)
	}
	doc, tt, err := a.load(ctx, in.Step)
	if err != nil {
		return countersign.Notice{}, err
	}
	n := countersign.Notice{Kind: in.Kind, Review: *r, Document: doc, Title: tt.Title, Ref: in.Ref, Outcome: in.Outcome, At: in.At}
	if in.To != nil {
		n.To = *in.To
	}
	if a.ReviewURL != nil {
		n.Link = a.ReviewURL(r.ID)
	}
	if in.Kind == countersign.NoticeClosed {
		decisions, err := a.Store.Decisions(ctx, doc.ID)
		if err != nil {
			return countersign.Notice{}, retryable(err)
		}
		for _, d := range decisions {
			if d.ReviewID == r.ID {
				n.Decisions = append(n.Decisions, d)
			}
		}
	}
	return n, nil
}

// noticeEvent is the audit event a notice of the kind records.
func noticeEvent(kind countersign.NoticeKind) string {
	switch kind {
	case countersign.NoticeReminder:
		return countersign.EventReviewReminded
	case countersign.NoticeEscalation:
		return countersign.EventReviewEscalated
	}
	return countersign.EventReviewNotified
}

// recordedEvent returns the step's audit event when it is already stored.
func (a *Activities) recordedEvent(ctx context.Context, step Step) (*countersign.AuditEvent, error) {
	events, err := a.Store.DocumentAudit(ctx, step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	for _, e := range events {
		if e.ID == step.EventID {
			return &e, nil
		}
	}
	return nil, nil
}

// recordedRef is the message a recorded notice posted, if any.
func recordedRef(e *countersign.AuditEvent) *countersign.NoticeRef {
	if e == nil {
		return nil
	}
	var data struct {
		Ref *countersign.NoticeRef `json:"ref"`
	}
	if json.Unmarshal(e.Data, &data) != nil {
		return nil
	}
	return data.Ref
}
