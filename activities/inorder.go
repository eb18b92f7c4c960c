package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// auditPage bounds the audits one CountAudits call walks.
const auditPage = 50

// amendWait is how long an audit whose decision is recorded, but whose
// document is not amended yet, is waited for before it is looked at again;
// amendGiveUp how long after its decision it is waited for at most.
const (
	amendWait   = time.Minute
	amendGiveUp = time.Hour
)

// DefaultAuditSettle is how long after an audit review's creation time the
// walk waits before it counts or passes it, and after an open audit's due
// time before it counts it as escaped. The review workflow sets the
// creation time, then the OpenReview activity stores the review: one
// created before a review the walk passes, but stored after the walk
// passed it, would never be counted. Likewise a decision is stored a
// moment after the time it carries. Five minutes cover an attempt that
// hangs to its one-minute timeout and a few quick retries; a store that
// refuses writes for longer, or a worker down as long, can still make the
// walk miss an audit (docs/oversight.md says so). Which audits are missed
// does not depend on their verdicts, so the count keeps its level; the
// evidence is lost.
const DefaultAuditSettle = 5 * time.Minute

func (a *Activities) auditSettle() time.Duration {
	if a.AuditSettle > 0 {
		return a.AuditSettle
	}
	return DefaultAuditSettle
}

// AuditPosition is where a supervisor's walk of the audits stands: the
// audit review it passed last, in the order audits were drawn (the order
// their reviews were opened in).
type AuditPosition struct {
	CreatedAt time.Time `json:"created_at"`
	ReviewID  string    `json:"review_id"`
}

// CountAuditsInput asks for the next audits of a supervisor's window that
// can be counted, in the order they were drawn.
type CountAuditsInput struct {
	TaskType string `json:"task_type"`
	// Counter names the supervisor's step that counts them (see
	// ConfirmAuditsInput).
	Counter string `json:"counter"`
	// Basis is the window's, nil when the supervisor has none yet.
	Basis *Basis `json:"basis,omitempty"`
	// After is where the walk stands; nil: before the first audit.
	After *AuditPosition `json:"after,omitempty"`
	// Now is the supervisor's clock: which audits are due.
	Now time.Time `json:"now"`
}

// CountAuditsResult is what the walk counted, and where it stopped.
type CountAuditsResult struct {
	// Basis and NewWindow are as in ConfirmAuditsResult.
	Basis     *Basis `json:"basis"`
	NewWindow bool   `json:"new_window"`
	// Counted are the audits to count, in the order they were drawn, as
	// the store records them.
	Counted []countersign.AuditOutcome `json:"counted,omitempty"`
	// Passed are the audits the walk passed without counting them, and
	// why: drawn under a policy version not the window's, or counted by
	// another supervisor before.
	Passed []IgnoredAudit `json:"passed,omitempty"`
	// After is where the walk stands now.
	After *AuditPosition `json:"after,omitempty"`
	// Waiting is the document whose audit the walk stopped at, which
	// cannot be counted yet, Due that audit's due time, and Until when to
	// look at it again (its due time; a minute on while its decision is
	// applied; when it has settled). Zero with no audit waiting.
	Waiting string    `json:"waiting,omitempty"`
	Due     time.Time `json:"due,omitempty"`
	Until   time.Time `json:"until,omitempty"`
	// Poll is the review_due of the policy in force: with no audit
	// waiting, an audit drawn now is found by a walk within that time, no
	// later than it is due.
	Poll time.Duration `json:"poll,omitempty"`
	// More is set when the walk stopped at its page's end: call again.
	More bool `json:"more,omitempty"`
}

// CountAudits walks the task type's audits in the order they were drawn
// (their reviews' creation order), from in.After, and counts each in turn
// once it is decided or due, whichever comes first. Decided by its due
// time (the decision recorded then, and the document amended by it), it
// counts with the store's verdict; without a verdict in time (still open
// when due, decided after it, closed without a decision, or never
// applied to the document), as escaped (NoVerdict). Which of the two an
// audit counts as depends on its verdict and when it was decided, never
// on when the walk looks. The walk stops at the first audit it cannot
// count yet, so an audit counts only after every audit drawn before it:
// the order is the draw's, which no verdict and no auditor's pace can
// change, and the confidence sequence keeps its level over it. Audit
// reports are not read: they only wake the supervisor, so a forged one
// changes nothing.
//
// An audit of a document routed under a policy version not the window's,
// or counted by another supervisor before (its audit.counted mark), is
// passed. Each counted audit gets its mark; a retried step that finds its
// own counts the audit as it marked it.
func (a *Activities) CountAudits(ctx context.Context, in CountAuditsInput) (*CountAuditsResult, error) {
	now, policy, err := a.policyBasis(ctx, in.TaskType)
	if err != nil {
		return nil, err
	}
	res := &CountAuditsResult{Basis: now, NewWindow: !in.Basis.Continues(now), After: in.After, Poll: policy.ReviewDue}
	if !res.NewWindow {
		now.Versions = continueVersions(in.Basis.Versions, now.Versions)
	}
	f := countersign.ReviewFilter{TaskType: in.TaskType, Kind: countersign.ReviewAudit, Limit: auditPage}
	if in.After != nil {
		f.Cursor = store.EncodeCursor(countersign.Review{CreatedAt: in.After.CreatedAt, ID: in.After.ReviewID}, countersign.ReviewsByCreation)
	}
	page, err := a.Store.ListReviews(ctx, f)
	if err != nil {
		return nil, retryable(err)
	}
	marks, err := a.countedMarks(ctx, in.TaskType, page.Reviews)
	if err != nil {
		return nil, err
	}
	for _, r := range page.Reviews {
		var mark *countedMark
		if m, ok := marks[r.DocumentID]; ok {
			mark = &m
		}
		o, why, until, err := a.countAudit(ctx, in, now, r, mark)
		if err != nil {
			return nil, err
		}
		if !until.IsZero() {
			res.Waiting, res.Due, res.Until = r.DocumentID, r.DueAt, until
			return res, nil
		}
		res.After = &AuditPosition{CreatedAt: r.CreatedAt, ReviewID: r.ID}
		if why != "" {
			a.logger().Info("audit passed, not counted", "task_type", in.TaskType, "document", r.DocumentID, "reason", why)
			res.Passed = append(res.Passed, IgnoredAudit{DocumentID: r.DocumentID, Reason: why})
			continue
		}
		if o.NoVerdict {
			a.logger().Warn("audit counted as escaped for want of a verdict in time: open when due, decided after it, closed without a decision, or its decision never applied",
				"task_type", in.TaskType, "document", r.DocumentID, "status", r.Status, "due", r.DueAt)
		}
		res.Counted = append(res.Counted, *o)
	}
	res.More = page.NextCursor != ""
	return res, nil
}

// continueVersions is the versions of a window that goes on: its own and
// those of the policy now in force, the newest maxVersions.
func continueVersions(window, now []string) []string {
	versions := slices.Clone(window)
	for _, v := range now {
		if !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	return versions[max(0, len(versions)-maxVersions):]
}

// countedMark is what an audit.counted event says.
type countedMark struct {
	CountedBy string `json:"counted_by"`
	Escaped   bool   `json:"escaped"`
	NoVerdict bool   `json:"no_verdict"`
}

// countedMarks reads the audit.counted marks of the documents of reviews,
// by document.
func (a *Activities) countedMarks(ctx context.Context, taskType string, reviews []countersign.Review) (map[string]countedMark, error) {
	if len(reviews) == 0 {
		return nil, nil
	}
	ids := make([]string, len(reviews))
	for i, r := range reviews {
		ids[i] = r.DocumentID
	}
	events, err := a.Store.AuditOfDocuments(ctx, ids, []string{countersign.EventAuditCounted})
	if err != nil {
		return nil, retryable(err)
	}
	marks := map[string]countedMark{}
	for _, e := range events {
		if e.ID != CountedEventID(taskType, e.DocumentID) {
			continue
		}
		var m countedMark
		if err := json.Unmarshal(e.Data, &m); err != nil || m.CountedBy == "" {
			m = countedMark{CountedBy: "event " + e.ID}
		}
		marks[e.DocumentID] = m
	}
	return marks, nil
}

// countAudit returns the store's account of audit review r, to count; or
// why it is passed; or, when it cannot be counted yet, when to look again.
// mark is its audit.counted mark, if it has one.
func (a *Activities) countAudit(ctx context.Context, in CountAuditsInput, basis *Basis, r countersign.Review, mark *countedMark) (*countersign.AuditOutcome, string, time.Time, error) {
	if settled := r.CreatedAt.Add(a.auditSettle()); in.Now.Before(settled) {
		return nil, "", settled, nil
	}
	if mark != nil && mark.CountedBy != in.Counter {
		return nil, "the audit was counted before, by " + mark.CountedBy, time.Time{}, nil
	}
	doc, err := a.Store.GetDocument(ctx, r.DocumentID)
	switch {
	case errors.Is(err, countersign.ErrNotFound):
		return nil, "no such document", time.Time{}, nil
	case err != nil:
		return nil, "", time.Time{}, retryable(err)
	case doc.Route == nil || doc.Route.Outcome != countersign.OutcomeAutoAcceptWithAudit:
		return nil, "the document was not drawn for audit", time.Time{}, nil
	case !routedUnder(in.TaskType, doc.Route.PolicyVersion, basis.Versions):
		return nil, fmt.Sprintf("the document was routed under policy %s, not one of the window's", doc.Route.PolicyVersion), time.Time{}, nil
	}
	out := &countersign.AuditOutcome{DocumentID: doc.ID, TaskType: doc.TaskType, Confidence: r.Confidence, Threshold: doc.Route.Threshold}
	if mark != nil {
		// This step, retried: the audit counts as the step marked it,
		// whatever became of it since.
		out.Escaped, out.NoVerdict, out.At = mark.Escaped, mark.NoVerdict, in.Now
		return out, "", time.Time{}, nil
	}
	decisions, err := a.Store.Decisions(ctx, doc.ID)
	if err != nil {
		return nil, "", time.Time{}, retryable(err)
	}
	decisionID := ""
	j := slices.IndexFunc(decisions, func(d countersign.Decision) bool { return d.ReviewID == r.ID })
	amended := doc.Final != nil && doc.Final.AuditedBy != ""
	switch {
	case j >= 0 && !decisions[j].At.After(r.DueAt) && amended:
		d := decisions[j]
		decisionID, out.Escaped, out.Auditor, out.At = d.ID, doc.Final.CorrectedAfterAudit, d.Actor, d.At
		if out.Escaped {
			out.Fields = slices.Sorted(maps.Keys(d.Fields))
		}
	case j >= 0 && !decisions[j].At.After(r.DueAt) && in.Now.Before(decisions[j].At.Add(amendGiveUp)):
		// Decided in time, and the document is being amended: its verdict
		// is moments away.
		return nil, "", in.Now.Add(amendWait), nil
	case j < 0 && r.Status == countersign.ReviewPending && in.Now.Before(r.DueAt.Add(a.auditSettle())):
		// Not due, or due moments ago: a decision given in time may
		// still be on its way to the store.
		return nil, "", r.DueAt.Add(a.auditSettle()), nil
	default:
		// Still open when due, decided after it, closed without a
		// decision (the document failed), or decided but never applied.
		out.Escaped, out.NoVerdict, out.At = true, true, in.Now
	}
	by, err := a.markCounted(ctx, in.TaskType, in.Counter, doc, r.ID, decisionID, out)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	if by != "" {
		return nil, "the audit was counted before, by " + by, time.Time{}, nil
	}
	return out, "", time.Time{}, nil
}
