package workflows

import (
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

// outbox holds a review's notices until they are sent: one at a time, in
// the order queued, by a goroutine of its own (send), so the review never
// waits for one; each later notice of a review carries the message its
// opening notice posted.
type outbox struct {
	queue   []activities.NotifyInput          // notices not yet sent, in order
	sending bool                              // the goroutine that sends them runs
	refs    map[string]*countersign.NoticeRef // each review's opening message
	owed    string                            // the review whose closing notice is owed
}

// notify queues a notice about review r for to, in runs whose gate sends
// notices.
func (w *review) notify(ctx workflow.Context, kind countersign.NoticeKind, r *countersign.Review, to *countersign.Audience, outcome string) {
	if !w.v.gateNoticesSLAApprovals {
		return
	}
	w.outbox.queue = append(w.outbox.queue, activities.NotifyInput{Step: w.step(), Kind: kind, ReviewID: r.ID, To: to, Outcome: outcome, At: now(ctx)})
	w.outbox.start(ctx)
}

// closeNotice queues the closing notice of review r, once.
func (w *review) closeNotice(ctx workflow.Context, r *countersign.Review, outcome string) {
	if w.outbox.owed != r.ID {
		return
	}
	w.outbox.owed = ""
	w.notify(ctx, countersign.NoticeClosed, r, w.in.Policy.Notify, outcome)
}

// empty reports whether every queued notice has been sent or given up.
func (o *outbox) empty() bool { return len(o.queue) == 0 }

// start starts the sender of queued notices on ctx unless it runs.
func (o *outbox) start(ctx workflow.Context) {
	if len(o.queue) > 0 && !o.sending {
		o.sending = true
		workflow.Go(ctx, o.send)
	}
}

// send sends the queued notices for as long as the workflow runs. A
// notice that fails is logged and dropped; the Notify activity has recorded
// its failure when it could. When its context is cancelled it stops, and a
// failing workflow starts another on its disconnected context, so that the
// closing notice still goes out.
func (o *outbox) send(ctx workflow.Context) {
	ctx = workflow.WithActivityOptions(ctx, notifyOptions)
	logger := workflow.GetLogger(ctx)
	for {
		if err := workflow.Await(ctx, func() bool { return len(o.queue) > 0 }); err != nil {
			o.sending = false
			return
		}
		in := o.queue[0]
		in.Ref = o.refs[in.ReviewID]
		var ref *countersign.NoticeRef
		if err := workflow.ExecuteActivity(ctx, a.Notify, in).Get(ctx, &ref); err != nil {
			logger.Warn("notice not sent", "review", in.ReviewID, "kind", in.Kind, "error", err)
		} else if in.Kind == countersign.NoticeOpened && ref != nil {
			if o.refs == nil {
				o.refs = map[string]*countersign.NoticeRef{}
			}
			o.refs[in.ReviewID] = ref
		}
		o.queue = o.queue[1:]
	}
}
