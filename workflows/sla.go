package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
)

// timeout is the SLA's timeout as it struck a gate review.
type timeout struct {
	review string
	after  time.Duration
	action countersign.TimeoutAction
	// approvals counts the agreeing approvals and corrections recorded
	// before it, rejections the agreeing rejections, of required.
	approvals, rejections, required int
}

// reason is why a timed-out document was rejected.
func (t *timeout) reason() string {
	r := "timed out after " + countersign.FormatDuration(t.after)
	switch {
	case t.approvals > 0:
		return fmt.Sprintf("%s with %d of %d approvals", r, t.approvals, t.required)
	case t.rejections > 0:
		return fmt.Sprintf("%s with %d of %d rejections", r, t.rejections, t.required)
	}
	return r + " with no decision"
}

// slaStep is one interval of the SLA: a notice to send, or the timeout.
type slaStep struct {
	after  time.Duration
	notice countersign.NoticeKind // empty for the timeout
}

func slaSteps(s *countersign.SLA) []slaStep {
	var steps []slaStep
	if s.RemindAfter > 0 {
		steps = append(steps, slaStep{s.RemindAfter, countersign.NoticeReminder})
	}
	if s.EscalateAfter > 0 {
		steps = append(steps, slaStep{s.EscalateAfter, countersign.NoticeEscalation})
	}
	if s.TimeoutAfter > 0 && s.TimeoutAction != "" {
		steps = append(steps, slaStep{after: s.TimeoutAfter})
	}
	return steps
}

// awaitGate waits for gate review r to end: settled, disputed, or timed
// out by the policy's SLA, whose reminder and escalation come meanwhile.
// Each interval is a durable timer counted from the review's opening, so a
// restarted worker neither forgets nor restarts it.
func (w *review) awaitGate(ctx workflow.Context, r *countersign.Review) error {
	ended := func() bool { return w.gate.ended != gateOpen || w.gate.failed != nil }
	if sla := w.in.Policy.SLA; w.v.gateNoticesSLAApprovals && sla != nil {
		for _, s := range slaSteps(sla) {
			over, err := w.awaitUntil(ctx, w.gate.openedAt.Add(s.after), ended)
			if err != nil || over {
				return err
			}
			if s.notice == countersign.NoticeReminder {
				w.notify(ctx, s.notice, r, w.in.Policy.Notify, "")
				continue
			}
			if s.notice == countersign.NoticeEscalation {
				w.notify(ctx, s.notice, r, sla.EscalateTo, "")
				continue
			}
			if err := w.timeOut(ctx, r); err != nil || ended() {
				return err
			}
		}
	}
	return workflow.Await(ctx, ended)
}

// awaitUntil waits until the workflow time at, or until cond holds, and
// reports whether cond holds. When the time comes with decisions under
// way (their validator accepted them before the timer fired), each has its
// turn first: a decision accepted in time always wins over the clock.
func (w *review) awaitUntil(ctx workflow.Context, at time.Time, cond func() bool) (bool, error) {
	if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
		if ok, err := workflow.AwaitWithTimeout(ctx, wait, cond); err != nil || ok {
			return ok, err
		}
	}
	// Wait for every accepted decision, the one in its turn and those
	// waiting for theirs, unless one of them has already ended the review.
	if err := workflow.Await(ctx, func() bool { return w.turns.accepted == 0 || cond() }); err != nil {
		return false, err
	}
	return cond(), nil
}

// timeOut takes the SLA's timeout action on gate review r. Reject closes
// the review at once, so any later decision is refused as timed out, and
// the document is rejected; hold leaves the review open for a person and
// tells the escalation tier. Either is recorded, and only when no decision
// came first.
func (w *review) timeOut(ctx workflow.Context, r *countersign.Review) error {
	sla := w.in.Policy.SLA
	agreed, rejected := 0, 0
	if n := w.in.Policy.Approvals(); n > 1 && w.gate.adjudicates == "" {
		// Votes on a review agree with each other: all rejections, or all
		// approvals and corrections.
		for _, v := range w.gate.votes {
			if v.decision.Action == countersign.ActionReject {
				rejected++
			} else {
				agreed++
			}
		}
	}
	w.gate.timedOut = &timeout{review: r.ID, after: sla.TimeoutAfter, action: sla.TimeoutAction, approvals: agreed, rejections: rejected, required: w.in.Policy.Approvals()}
	at := now(ctx)
	if sla.TimeoutAction == countersign.TimeoutReject {
		w.open = nil
	} else {
		w.gate.heldSince = &at
	}
	in := activities.TimeoutInput{Step: w.step(), ReviewID: r.ID, After: sla.TimeoutAfter, Action: sla.TimeoutAction, At: at}
	if agreed > 0 {
		in.Approvals, in.Required = agreed, w.gate.timedOut.required
	}
	if err := workflow.ExecuteActivity(ctx, a.TimeOut, in).Get(ctx, nil); err != nil {
		return err
	}
	if sla.TimeoutAction == countersign.TimeoutReject {
		w.gate.ended = gateTimedOut
		return nil
	}
	// A held review stays open: a person may have settled it meanwhile,
	// and then there is no one to tell.
	if w.gate.ended != gateOpen {
		return nil
	}
	to := sla.EscalateTo
	if to == nil {
		to = w.in.Policy.Notify
	}
	w.notify(ctx, countersign.NoticeEscalation, r, to, "timed out after "+countersign.FormatDuration(sla.TimeoutAfter)+": held until a person decides")
	return nil
}
