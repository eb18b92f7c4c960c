package workflows

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
)

// gate is the human gate's state: the gate review under way (the first, or
// an adjudication), the decisions on it and how it ended, and what the
// earlier gate reviews of the document left. The pipeline opens gate
// reviews (humanGate), the decision handler records votes on them (decide,
// decision.go), the SLA's clock may end one (timeOut, sla.go).
type gate struct {
	review      *countersign.Review // the gate review under way
	openedAt    time.Time           // when it opened; the SLA counts from then
	adjudicates string              // the disputed review it settles, if any
	votes       []vote              // the decisions on it so far
	ended       gateEnd             // how it ended
	timedOut    *timeout            // the SLA's timeout, once it struck it
	heldSince   *time.Time          // the timeout put the document on hold then

	decisions []*countersign.Decision // every decision at the gate, in order
	disputed  []string                // the gate reviews whose decisions disagreed
	decided   *countersign.Decision   // the decision that closed the gate
	failed    error                   // a decision that could not be recorded: the document fails
}

// gateEnd is how the gate review under way ended.
type gateEnd int

const (
	gateOpen     gateEnd = iota
	gateSettled          // enough people agreed, or the adjudicator decided
	gateDisputed         // the decisions disagreed: adjudication follows
	gateTimedOut         // the SLA's timeout rejected the document
)

// vote is a decision recorded on the gate review under way, with the fields
// it stands for (nil for a rejection).
type vote struct {
	decision *countersign.Decision
	fields   countersign.Fields
}

// effect is what a decision does to the gate review it is made on.
type effect int

const (
	effectSettle  effect = iota // it closes the review and the document is final
	effectWait                  // it counts; more people must decide
	effectDispute               // it disagrees with an earlier one: adjudication
)

// humanGate opens a review and waits, durably and for as long as it takes
// or the policy's SLA allows, for the decisions that close it. When the
// people deciding it disagree, an adjudication review settles it.
func (w *review) humanGate(ctx workflow.Context) error {
	w.v.gateNoticesSLAApprovals = workflow.GetVersion(ctx, gateChange, workflow.DefaultVersion, 1) >= 1
	w.v.approvalsNameCorrections = w.v.gateNoticesSLAApprovals && workflow.GetVersion(ctx, approvesChange, workflow.DefaultVersion, 1) >= 1
	if w.in.Policy.BlindReview && w.in.Policy.Approvals() > 1 && w.v.approvalsNameCorrections {
		w.v.blindReview = workflow.GetVersion(ctx, blindChange, workflow.DefaultVersion, 1) >= 1
	}
	r := w.newReview("", now(ctx), w.in.Policy.ReviewDue, w.route.Reasons)
	if err := w.openGate(ctx, r, ""); err != nil {
		return err
	}
	w.slipGold(ctx, r)
	for {
		if err := w.awaitGate(ctx, r); err != nil { // sla.go
			return err
		}
		if w.gate.failed != nil || w.gate.ended != gateDisputed {
			return w.gate.failed
		}
		next, err := w.adjudicate(ctx, r)
		if err != nil {
			return err
		}
		r = next
	}
}

// openGate opens gate review r, which settles the disputed review
// adjudicates when that is set, and tells its reviewers.
func (w *review) openGate(ctx workflow.Context, r *countersign.Review, adjudicates string) error {
	w.gate.start(r, adjudicates, workflow.Now(ctx))
	r.Blind = adjudicates == "" && w.blind(r)
	// The review is in the queue as soon as the activity has stored it, which
	// is before the activity reports back: accept decisions from then on.
	w.open, w.turns.opened = r, false
	in := activities.OpenReviewInput{Step: w.step(), Review: r}
	if adjudicates != "" {
		in.Adjudicates, in.Adjudicator = adjudicates, w.in.Policy.AdjudicatorRole()
	}
	if err := workflow.ExecuteActivity(ctx, a.OpenReview, in).Get(ctx, nil); err != nil {
		w.open = nil
		return err
	}
	w.turns.opened, w.status = true, countersign.StatusAwaitingReview
	w.notify(ctx, countersign.NoticeOpened, r, w.in.Policy.Notify, "")
	w.outbox.owed = r.ID
	return nil
}

// adjudicate closes disputed review r, records the disagreement and opens
// the adjudication review whose one decision settles it.
func (w *review) adjudicate(ctx workflow.Context, r *countersign.Review) (*countersign.Review, error) {
	role := w.in.Policy.AdjudicatorRole()
	disagreement := votesSummary(w.gate.votes, true)
	ids := make([]string, len(w.gate.votes))
	for i, v := range w.gate.votes {
		ids[i] = v.decision.ID
	}
	next := countersign.ReviewID(w.in.DocumentID, w.reviews+1)
	w.gate.disputed = append(w.gate.disputed, r.ID)
	in := activities.DisputeInput{Step: w.step(), ReviewID: r.ID, Decisions: ids, Disagreement: disagreement, Adjudication: next, Adjudicator: role, At: now(ctx)}
	if err := workflow.ExecuteActivity(ctx, a.Dispute, in).Get(ctx, nil); err != nil {
		return nil, err
	}
	w.closeNotice(ctx, r, "the decisions disagree ("+disagreement+"): sent to adjudication in review "+next)
	reasons := append([]string{fmt.Sprintf("adjudication of review %s, whose decisions disagree (%s): the decision of a person with the %s role settles it", r.ID, disagreement, role)}, w.route.Reasons...)
	adjudication := w.newReview("", now(ctx), w.in.Policy.ReviewDue, reasons)
	return adjudication, w.openGate(ctx, adjudication, r.ID)
}

// start makes r the gate review under way, opened at at, settling the
// disputed review adjudicates when that is set.
func (g *gate) start(r *countersign.Review, adjudicates string, at time.Time) {
	g.review, g.openedAt, g.adjudicates = r, at, adjudicates
	g.votes, g.ended, g.timedOut, g.heldSince = nil, gateOpen, nil, nil
}

// tally says what req does to review r, and the fields it stands for. Until
// the policy's approvals are in, every decision must agree with those
// before it: all rejections, or approvals and corrections that leave the
// same fields (an approval approves the fields as the last correction left
// them). An audit's or an adjudication's one decision settles its review.
func (w *review) tally(r *countersign.Review, req DecisionRequest) (effect, countersign.Fields) {
	fields := w.votedFields(req)
	if !w.v.gateNoticesSLAApprovals || r.Kind == countersign.ReviewAudit || w.gate.adjudicates != "" {
		return effectSettle, fields
	}
	for _, v := range w.gate.votes {
		if !sameVote(v, req.Action, fields) {
			return effectDispute, fields
		}
	}
	if len(w.gate.votes)+1 >= w.in.Policy.Approvals() {
		return effectSettle, fields
	}
	return effectWait, fields
}

// blind reports whether gate review r is decided blind: the run has
// blindChange (asked only when the policy asks for blind review of more
// than one person). Audits and adjudications take one decision and are
// never blind.
func (w *review) blind(r *countersign.Review) bool {
	return w.v.blindReview && (r.Kind == "" || r.Kind == countersign.ReviewGate)
}

// votedFields are the fields a decision stands for: the correction applied
// to the draft, the proposal it approves, or none for a rejection.
func (w *review) votedFields(req DecisionRequest) countersign.Fields {
	switch req.Action {
	case countersign.ActionCorrect:
		return corrected(w.draftFields(), req.Fields)
	case countersign.ActionApprove:
		if w.open != nil && w.open.Blind {
			// Nobody saw a correction to approve: a blind approval
			// approves the draft.
			return corrected(w.draftFields(), nil)
		}
		if p, id := w.gate.proposal(); p != nil && (!w.v.approvalsNameCorrections || req.Approves == id) {
			return p
		}
		// An approval of the draft: it disagrees with a correction made
		// since its author looked.
		return corrected(w.draftFields(), nil)
	}
	return nil
}

// corrected is countersign.Correct, and names countersign's Fields.Names,
// for workflow code.
//
// workflowcheck reports both because they range over maps: one to build a
// map, whose order is irrelevant, the other to collect names it then sorts.
// Neither result depends on the order of the range.
//
//workflowcheck:ignore
func corrected(draft, patch countersign.Fields) countersign.Fields {
	return countersign.Correct(draft, patch)
}

//workflowcheck:ignore
func names(f countersign.Fields) []string {
	return f.Names()
}

// proposal is the fields the last correction on the gate review under way
// left, which a later approval approves, and that correction's ID; nil
// when nobody corrected it.
func (g *gate) proposal() (countersign.Fields, string) {
	for i := len(g.votes) - 1; i >= 0; i-- {
		if g.votes[i].decision.Action == countersign.ActionCorrect {
			return g.votes[i].fields, g.votes[i].decision.ID
		}
	}
	return nil, ""
}

// agreed are the agreeing decisions that settled the last gate review, in
// order, when it took more than one.
func (g *gate) agreed() []*countersign.Decision {
	if len(g.votes) <= 1 || g.ended != gateSettled {
		return nil
	}
	var out []*countersign.Decision
	for _, v := range g.votes {
		out = append(out, v.decision)
	}
	return out
}

// reviewers are everyone who decided at the gate, in order, when more than
// one decision was made there.
func (g *gate) reviewers() []string {
	if len(g.decisions) <= 1 {
		return nil
	}
	var out []string
	for _, d := range g.decisions {
		if !slices.Contains(out, d.Actor) {
			out = append(out, d.Actor)
		}
	}
	return out
}

// adjudicationOf names the review that settles disputed review id.
func (g *gate) adjudicationOf(id string) string {
	if g.review != nil && g.adjudicates == id {
		return "review " + g.review.ID
	}
	return "its next review"
}

// outcome says how the last gate review ended, for its closing notice:
// "approved by rita", "corrected by rita, approved by anna", "timed out
// after 72h: rejected", "adjudicated by ada: corrected".
func (g *gate) outcome() string {
	var s string
	switch {
	case g.ended == gateTimedOut:
		return "timed out after " + countersign.FormatDuration(g.timedOut.after) + ": rejected"
	case g.adjudicates != "" && g.decided != nil:
		s = "adjudicated by " + g.decided.Actor + ": " + g.decided.Action.PastTense()
	default:
		parts := make([]string, len(g.votes))
		for i, v := range g.votes {
			parts[i] = v.decision.Action.PastTense() + " by " + v.decision.Actor
		}
		s = strings.Join(parts, ", ")
	}
	if g.heldSince != nil {
		s += ", after the timeout held it"
	}
	return s
}

func (w *review) draftFields() countersign.Fields {
	if w.draft.Failed() {
		return nil
	}
	return w.draft.Fields
}

// sameVote reports whether a decision with action and fields agrees with v.
func sameVote(v vote, action countersign.Action, fields countersign.Fields) bool {
	rejects := v.decision.Action == countersign.ActionReject
	if rejects || action == countersign.ActionReject {
		return rejects && action == countersign.ActionReject
	}
	return sameFields(v.fields, fields)
}

// sameFields reports whether two sets of fields hold the same values.
//
// workflowcheck reports reflect.DeepEqual, which ranges over maps; the
// answer does not depend on the order it visits them in.
//
//workflowcheck:ignore
func sameFields(x, y countersign.Fields) bool {
	return reflect.DeepEqual(x, y)
}

// votesSummary says who decided what, as "rita approved, anna corrected
// term_months" (with the fields changed when detail is set).
func votesSummary(votes []vote, detail bool) string {
	parts := make([]string, len(votes))
	for i, v := range votes {
		d := v.decision
		parts[i] = d.Actor + " " + d.Action.PastTense()
		if detail && d.Action == countersign.ActionCorrect {
			parts[i] += " " + strings.Join(names(d.Fields), ", ")
		}
	}
	return strings.Join(parts, ", ")
}
