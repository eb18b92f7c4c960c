// Package simulate answers "what if the threshold were X?" for a task type:
// it replays the confidence of every finished document the active
// calibration did not train on, recomputed through that calibration, and the
// people's verdicts on them through the current policy at a range of
// thresholds, and counts how many documents would have gone to a person and
// how many auto-accepted ones were wrong, with an upper confidence bound on
// their error rate.
package simulate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/policy"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/routing"
	"github.com/countersign/countersign/internal/scoring"
)

// DefaultThresholds are the thresholds a simulation always reports.
var DefaultThresholds = []float64{0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 0.995, 0.999}

// DefaultLevel is the confidence level of the rows' upper bounds.
const DefaultLevel = 0.95

// Row is the outcome of one threshold.
type Row struct {
	Threshold float64 `json:"threshold"`
	// Review is how many documents would have gone to a person (low
	// confidence, a risk rule, no draft); AutoAccepted how many not;
	// Rejected how many a reject rule would have rejected.
	Review       int `json:"review"`
	AutoAccepted int `json:"auto_accepted"`
	Rejected     int `json:"rejected"`
	// Known counts the documents of the evidence (Evidence) the threshold
	// accepts: the n of the error rate. Wrong counts those a person had
	// corrected or rejected, or that had no verdict when due (its k);
	// Unknown the other finished documents it accepts: nobody checked
	// them, a person did outside the sample (Result.Unsampled), or their
	// review or audit is not due yet.
	Known   int `json:"known"`
	Wrong   int `json:"wrong"`
	Unknown int `json:"unknown"`
	// ReviewRate is Review over all documents.
	ReviewRate float64 `json:"review_rate"`
	// ErrorRate is Wrong over Known, and UpperBound its one-sided
	// Clopper-Pearson upper bound at the result's Level; both are null
	// when no accepted document has a known verdict.
	ErrorRate  *float64 `json:"error_rate"`
	UpperBound *float64 `json:"upper_bound"`
}

// Result is a whole simulation.
type Result struct {
	TaskType      string  `json:"task_type"`
	PolicyVersion string  `json:"policy_version"`
	Calibration   string  `json:"calibration,omitempty"`
	Level         float64 `json:"level"`
	// Documents is how many documents the simulation replayed: the
	// finished ones the calibration did not train on, and those still held
	// at the gate past their review's due time, which the evidence counts
	// (OverdueReviews, as wrong). TrainedOn counts those left out because
	// it did.
	Documents int `json:"documents"`
	TrainedOn int `json:"trained_on"`
	// Checked is how many documents the evidence counts (Evidence: a
	// person decided or audited them, or their review or audit is overdue,
	// in the uniform sample, and due), whose verdicts the rows count;
	// Unsampled how many more a person decided outside it (in hotl, below
	// the threshold in force and not drawn), left out of the error rates
	// because counting them would weigh the less confident documents more
	// than the others.
	Checked   int `json:"checked"`
	Unsampled int `json:"unsampled,omitempty"`
	// NoVerdict, PendingAudits and PendingReviews are Evidence's: the
	// documents counted as wrong for want of a verdict in time (among
	// Checked), and those left out until their audit or review is due.
	NoVerdict      int   `json:"no_verdict,omitempty"`
	OverdueReviews int   `json:"overdue_reviews,omitempty"`
	PendingAudits  int   `json:"pending_audits,omitempty"`
	PendingReviews int   `json:"pending_reviews,omitempty"`
	Rows           []Row `json:"rows"`
}

// Run simulates tt's current policy, in hotl mode, at the default
// thresholds and the extra ones given, over every finished document of the
// task type that cal did not train on, each document's confidence
// recomputed through cal (the active calibration; nil: raw scores). The
// error rates are the evidence's at now (Evidence, the same as a
// certification's): only the uniform sample's documents whose review or
// audit is due count, a review or audit still open when due as wrong. Error
// bounds are at level (0: DefaultLevel). One scan of the documents serves
// both: the held-out ones are kept until the evidence's verdicts are in,
// and the shares sent to a person counted then.
func Run(ctx context.Context, docs ReviewStore, tt *countersign.TaskType, cal *countersign.Calibration, level float64, now time.Time, extra ...float64) (*Result, error) {
	if level == 0 {
		level = DefaultLevel
	}
	if !(level > 0 && level < 1) {
		return nil, countersign.Errorf(countersign.CodeInvalid, "level must be between 0 and 1, not %v", level)
	}
	thresholds := append(slices.Clone(DefaultThresholds), extra...)
	slices.Sort(thresholds)
	thresholds = slices.Compact(thresholds)

	res := &Result{TaskType: tt.Name, PolicyVersion: tt.Policy.Version, Level: level}
	if cal != nil {
		res.Calibration = cal.Version
	}
	rows := make([]Row, len(thresholds))
	for i, t := range thresholds {
		rows[i].Threshold = t
	}
	// The evidence first: its documents are known, the others accepted
	// are not.
	counted := map[string]bool{}
	// The held-out finished documents, read in the evidence's own scan,
	// wait for its verdicts: which of those accepted are unknown depends
	// on them.
	var finished, overdue []Case
	each := func(c Case) {
		if !c.HeldOut {
			res.TrainedOn++
			return
		}
		finished = append(finished, c)
	}
	counts, err := evidence(ctx, docs, tt, cal, now, each, func(c Case, wrong bool) error {
		counted[c.DocumentID] = true
		if c.Open {
			// Held at the gate past its review's due time: not finished,
			// but counted, so counted among the documents too.
			overdue = append(overdue, c)
		}
		res.Checked++
		for i := range rows {
			if c.Accepted(rows[i].Threshold) {
				rows[i].Known++
				if wrong {
					rows[i].Wrong++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Unsampled, res.NoVerdict, res.OverdueReviews, res.PendingAudits, res.PendingReviews = counts.Unsampled, counts.NoVerdict, counts.OverdueReviews, counts.PendingAudits, counts.PendingReviews
	share := func(c Case) {
		res.Documents++
		for i := range rows {
			switch {
			case c.Route == RouteReject:
				rows[i].Rejected++
			case !c.Accepted(rows[i].Threshold):
				rows[i].Review++
			default:
				rows[i].AutoAccepted++
				if !counted[c.DocumentID] {
					rows[i].Unknown++
				}
			}
		}
	}
	for _, c := range finished {
		share(c)
	}
	for _, c := range overdue {
		share(c)
	}
	for i := range rows {
		r := &rows[i]
		if res.Documents > 0 {
			r.ReviewRate = float64(r.Review) / float64(res.Documents)
		}
		if r.Known > 0 {
			rate := float64(r.Wrong) / float64(r.Known)
			bound, err := quality.UpperBound(quality.ClopperPearson, r.Wrong, r.Known, level)
			if err != nil {
				return nil, err
			}
			r.ErrorRate, r.UpperBound = &rate, &bound
		}
	}
	res.Rows = rows
	return res, nil
}

// RouteClass is what the policy does with a document at any threshold,
// but for its confidence.
type RouteClass string

// Route classes.
const (
	// RouteEligible: auto-accepted at every threshold its confidence meets.
	RouteEligible RouteClass = "eligible"
	// RouteReview: to a person whatever its confidence (a risk rule, a
	// failed draft).
	RouteReview RouteClass = "review"
	// RouteReject: rejected by a reject rule whatever its confidence.
	RouteReject RouteClass = "reject"
)

// Case is one finished document as a simulation replays it.
type Case struct {
	DocumentID string
	CreatedAt  time.Time
	// Confidence is the document confidence recomputed through the
	// calibration replayed.
	Confidence float64
	Route      RouteClass
	// HeldOut is set when the calibration did not train on the document:
	// it can measure the calibration without flattering it.
	HeldOut bool
	// Known is set when a person decided or audited the document, Wrong
	// when that person changed or rejected the draft.
	Known, Wrong bool
	// Sampled is set when the document belongs to the uniform sample of
	// the task type's documents (Sampled): only there do the verdicts of
	// people measure an error rate. For a sampled document a veto is a
	// verdict too (its draw, not the veto, chose it). Drawn is set for a
	// sampled document drawn for an audit and not vetoed: its verdict is
	// the audit's, once decided (Known). Without a verdict, a sampled
	// document is not known, and is not to be left out lightly, since the
	// verdicts that never come may be those of the wrong documents:
	// Unjudged is set when it was sent to a person and finished without
	// one's verdict (a review that timed out).
	Sampled, Drawn, Unjudged bool
	// Reviewed is set when the policy sent the document to a person at the
	// human gate (or no draft reached it): its verdict, if any, is that
	// review's. Open is set for such a document still held there
	// (ReplayOpen): nobody has decided it yet.
	Reviewed, Open bool
	// SampleRate is, for a sampled document, the share of documents the
	// sample took when it was routed: 1 in hitl, the audit sample rate in
	// hotl.
	SampleRate float64
}

// Accepted reports whether the policy auto-accepts the document at a
// threshold, as routing.Route does: eligible and at or above it.
func (c Case) Accepted(threshold float64) bool {
	return c.Route == RouteEligible && c.Confidence >= threshold
}

// Replay calls fn with every finished (accepted or rejected) document of
// tt's task type, gold items left out, oldest first: its confidence through
// cal, what tt's current policy does with it in hotl mode but for the
// threshold, whether cal trained on it, and what people found.
func Replay(ctx context.Context, docs countersign.DocumentStore, tt *countersign.TaskType, cal *countersign.Calibration, fn func(Case) error) error {
	return docs.ScanDocuments(ctx, countersign.DocumentFilter{
		TaskType: tt.Name,
		Statuses: []countersign.Status{countersign.StatusAccepted, countersign.StatusRejected},
	}, func(d *countersign.Document) error {
		if d.Confidence == nil || d.Final == nil {
			return nil
		}
		return replay(tt, cal, d, fn)
	})
}

// ReplayOpen calls fn, as Replay does, with every document of tt's task
// type held at the human gate (awaiting review) that was scored, gold items
// left out: not known, since nobody has decided it yet. It is for evidence
// that counts a document once its review is due however it went
// (certify.Collect), where a review still open when due is a document
// without a verdict.
func ReplayOpen(ctx context.Context, docs countersign.DocumentStore, tt *countersign.TaskType, cal *countersign.Calibration, fn func(Case) error) error {
	return docs.ScanDocuments(ctx, countersign.DocumentFilter{
		TaskType: tt.Name,
		Statuses: []countersign.Status{countersign.StatusAwaitingReview},
	}, func(d *countersign.Document) error {
		if d.Confidence == nil || d.Final != nil {
			return nil
		}
		return replay(tt, cal, d, fn)
	})
}

// replay makes d's Case and calls fn with it.
func replay(tt *countersign.TaskType, cal *countersign.Calibration, d *countersign.Document, fn func(Case) error) error {
	conf := scoring.Recalibrate(tt, d.Confidence, cal, calibration.RawScore)
	c := Case{
		DocumentID: d.ID,
		CreatedAt:  d.CreatedAt,
		Confidence: conf.Overall,
		HeldOut:    cal == nil || !cal.TrainedOn(d.ID, d.CreatedAt),
	}
	c.Known, c.Wrong = Verdict(d)
	c.Reviewed = d.Route == nil || d.Route.Outcome == countersign.OutcomeHumanReview
	c.Open = d.Final == nil
	if c.Sampled = Sampled(d); c.Sampled {
		c.SampleRate = 1
		if d.Route != nil && d.Route.Mode == countersign.ModeHOTL {
			c.SampleRate = d.Route.AuditSampleRate
		}
		switch f := d.Final; {
		case f == nil:
			// Open at the gate: no verdict yet.
		case f.Vetoed:
			c.Known, c.Wrong = true, f.Action == countersign.ActionReject || !unchanged(f.Diff)
		case d.Route == nil:
		case d.Route.Outcome == countersign.OutcomeAutoAcceptWithAudit:
			c.Drawn = true
		case c.Known:
		case d.Route.Outcome == countersign.OutcomeHumanReview:
			// Sent to a person, finished without one (timed out). A
			// reject rule's rejection in hotl expects no verdict.
			c.Unjudged = true
		}
	}
	var hits []countersign.RuleHit
	if !d.Draft.Failed() {
		hits = policy.Evaluate(tt.Policy, d.Draft.Fields, d.Metadata, conf.Overall)
	}
	// Routed at threshold 0, a document is auto-accepted unless
	// something other than its confidence decides.
	p := tt.Policy
	p.Mode, p.AutoAcceptThreshold, p.AuditSampleRate = countersign.ModeHOTL, 0, 0
	switch route := routing.Route(routing.RouteInput{Policy: p, DocumentID: d.ID, Draft: d.Draft, Confidence: conf, Rules: hits}); route.Outcome {
	case countersign.OutcomeAutoAccept:
		c.Route = RouteEligible
	case countersign.OutcomeHumanReview:
		c.Route = RouteReview
	case countersign.OutcomeReject:
		c.Route = RouteReject
	default:
		return fmt.Errorf("simulate %s: unexpected route %s", d.ID, route.Outcome)
	}
	return fn(c)
}

// Sampled reports whether a routed document belongs to the uniform sample
// of its task type's documents: the documents whose verdicts measure an
// error rate without bias, because whether a person looked at them did not
// depend on their confidence.
//
// In hitl every document goes to a person, so every one belongs. In hotl a
// person sees every document below the threshold (or sent by a rule) but
// only the audited share of those above it; counting them all would weigh
// the less confident documents, wrong more often, 1/rate times the others,
// and the error rate at a threshold below the one in force would be a mix
// of the two. So in hotl a document belongs at the audit sample rate r in
// force when it was routed (Route.AuditSampleRate), whatever its route:
//
//   - auto-accepted: when it was drawn for an audit (the DrawAudit
//     activity's draw, a share r of every confidence band);
//   - sent to a person or rejected: when its own draw falls below r: the
//     first 53 bits of SHA-256("uniform-sample:" + ID + "@" + the time the
//     server received it, in microseconds) as a fraction. Fixed by the
//     stored document, so every reading draws the same; and since the
//     submitter, who may choose the ID, cannot choose the microsecond of
//     arrival, no choice of IDs steers documents in or out.
//
// Neither draw looks at what people found, so the sample is a share r of
// the period's documents at every confidence, like a period in hitl. A
// document routed in hotl without a recorded rate (before it was recorded,
// or at rate 0) does not belong: its period has no uniform sample.
func Sampled(d *countersign.Document) bool {
	r := d.Route
	switch {
	case r == nil:
		// Not routed: no draft reached the policy, a person decides it.
		return true
	case r.Mode != countersign.ModeHOTL:
		return true
	case r.AuditSampleRate <= 0:
		return false
	case r.Outcome == countersign.OutcomeAutoAcceptWithAudit:
		return true
	case r.Outcome == countersign.OutcomeAutoAccept:
		return false
	default:
		return uniformDraw(d.ID, d.CreatedAt) < r.AuditSampleRate
	}
}

// uniformDraw is a document's draw for the uniform sample, in [0,1).
func uniformDraw(documentID string, received time.Time) float64 {
	return countersign.Draw([]byte("uniform-sample:" + documentID + "@" + strconv.FormatInt(received.UnixMicro(), 10)))
}

// Verdict reads what people found of a finished document: known when a
// person decided it or audited it, wrong when that person corrected or
// rejected the draft. A veto picks its documents by hand, so it tells
// nothing about the rate of errors: a vetoed document is not known.
func Verdict(d *countersign.Document) (known, wrong bool) {
	f := d.Final
	if f == nil || f.Vetoed {
		return false, false
	}
	known = f.DecidedBy != countersign.SystemActor || f.AuditedBy != ""
	if !known {
		return false, false
	}
	return true, f.Action == countersign.ActionReject || !unchanged(f.Diff)
}

func unchanged(diff []countersign.FieldChange) bool {
	for _, c := range diff {
		if c.Change != countersign.ChangeUnchanged {
			return false
		}
	}
	return true
}
