package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
)

// notifyOptions keep a notice from holding anything up: a short attempt, a
// few tries with backoff, then the failure is recorded and the review goes
// on without it. No HeartbeatTimeout: Notify keeps the message it posted in
// its heartbeat, which the worker's liveness beats would replace; a notice
// on a worker that died is retried when its short attempt times out.
var notifyOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 15 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Second,
		MaximumAttempts:    activities.NotifyAttempts,
	},
}

// notify queues a notice about review r for to. Notices go out one at a
// time, in the order queued, from a goroutine of their own: the review
// never waits for one, and each later notice of a review carries the
// message its opening notice posted.
func (w *review) notify(ctx workflow.Context, kind countersign.NoticeKind, r *countersign.Review, to *countersign.Audience, outcome string) {
	if !w.gateV {
		return
	}
	w.outbox = append(w.outbox, activities.NotifyInput{Step: w.step(), Kind: kind, ReviewID: r.ID, To: to, Outcome: outcome, At: now(ctx)})
	w.sendQueued(ctx)
}

// sendQueued starts the sender of queued notices on ctx unless it runs.
func (w *review) sendQueued(ctx workflow.Context) {
	if len(w.outbox) > 0 && !w.courier {
		w.courier = true
		workflow.Go(ctx, w.sendNotices)
	}
}

// closeNotice queues the closing notice of review r, once.
func (w *review) closeNotice(ctx workflow.Context, r *countersign.Review, outcome string) {
	if w.owed != r.ID {
		return
	}
	w.owed = ""
	w.notify(ctx, countersign.NoticeClosed, r, w.in.Policy.Notify, outcome)
}

// sendNotices sends the queued notices for as long as the workflow runs. A
// notice that fails is logged and dropped; the Notify activity has recorded
// its failure when it could. When its context is cancelled it stops, and a
// failing workflow starts another on its disconnected context, so that the
// closing notice still goes out.
func (w *review) sendNotices(ctx workflow.Context) {
	ctx = workflow.WithActivityOptions(ctx, notifyOptions)
	logger := workflow.GetLogger(ctx)
	for {
		if err := workflow.Await(ctx, func() bool { return len(w.outbox) > 0 }); err != nil {
			w.courier = false
			return
		}
		in := w.outbox[0]
		in.Ref = w.refs[in.ReviewID]
		var ref *countersign.NoticeRef
		if err := workflow.ExecuteActivity(ctx, a.Notify, in).Get(ctx, &ref); err != nil {
			logger.Warn("notice not sent", "review", in.ReviewID, "kind", in.Kind, "error", err)
		} else if in.Kind == countersign.NoticeOpened && ref != nil {
			if w.refs == nil {
				w.refs = map[string]*countersign.NoticeRef{}
			}
			w.refs[in.ReviewID] = ref
		}
		w.outbox = w.outbox[1:]
	}
}

// gateOutcome says how the last gate review ended, for its closing notice:
// "approved by rita", "corrected by rita, approved by anna", "timed out
// after 72h: rejected", "adjudicated by ada: corrected".
func (w *review) gateOutcome() string {
	var s string
	switch {
	case w.ended == gateTimedOut:
		return "timed out after " + countersign.FormatDuration(w.timedOut.after) + ": rejected"
	case w.adjudicates != "" && w.decided != nil:
		s = "adjudicated by " + w.decided.Actor + ": " + pastTense(w.decided.Action)
	default:
		parts := make([]string, len(w.votes))
		for i, v := range w.votes {
			parts[i] = pastTense(v.decision.Action) + " by " + v.decision.Actor
		}
		s = strings.Join(parts, ", ")
	}
	if w.heldSince != nil {
		s += ", after the timeout held it"
	}
	return s
}
