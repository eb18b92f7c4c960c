package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
)

// ReviewStore is what Evidence reads: the documents, and the reviews of
// the task type, for when each was due.
type ReviewStore interface {
	countersign.DocumentStore
	ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error)
}

// EvidenceCounts says what Evidence left out or counted as wrong.
type EvidenceCounts struct {
	// TrainedOn counts the decided documents left out because the
	// calibration trained on them; Unsampled those left out because they
	// do not belong to the uniform sample (Sampled).
	TrainedOn, Unsampled int
	// NoVerdict counts the documents counted as wrong for want of a
	// person's verdict: an audit or a review still open when due (or
	// abandoned), a review that timed out. Leaving them out could leave out
	// exactly the documents nobody could confirm.
	NoVerdict int
	// OverdueReviews counts those of NoVerdict still held at the human
	// gate when their review was due: a backlog to decide, not errors the
	// model made (a refusal says so first).
	OverdueReviews int
	// PendingAudits counts the documents drawn for an audit not due (or
	// not open) yet, PendingReviews those sent to a person whose review is
	// not due yet: left out however far their review went. PendingUntil is
	// when the last of them with a due time is due.
	PendingAudits, PendingReviews int
	PendingUntil                  time.Time
}

// Evidence calls fn with every document of tt's task type whose verdict
// measures an error rate at now, and that verdict (wrong: a person
// corrected or rejected the draft, or none gave a verdict in time): the
// documents cal did not train on (gold items left out) that belong to the
// uniform sample (Sampled), each with its confidence recomputed through cal
// (nil: uncalibrated) and what tt's current rules do with it. A veto is a
// verdict only for a document the draw took (a veto picks by hand; the draw
// did not). It is the evidence of certify.Collect and of Run's error rates.
//
// Which documents count depends on the clock alone, never on how long
// people took to find what they found (but for a veto of a drawn document,
// which counts at once: nearly always a correction, it errs on the strict
// side). A document drawn for an audit
// counts once its audit review is due at now, whatever became of it:
// decided, with the audit's verdict; still open, as wrong (NoVerdict).
// Before that it is left out (PendingAudits) however the audit went, since
// quick confirmations would otherwise come in ahead of slow corrections.
// The same holds for a document sent to a person at the human gate: it
// counts once its review is due (the first gate review's due time),
// decided, with the verdict, or still held at the gate (or timed out), as
// wrong; before that it is left out (PendingReviews) however far its
// review went. A document with no gate review in the store (data from
// before reviews were kept) counts as it is.
func Evidence(ctx context.Context, store ReviewStore, tt *countersign.TaskType, cal *countersign.Calibration, now time.Time, fn func(c Case, wrong bool) error) (*EvidenceCounts, error) {
	return evidence(ctx, store, tt, cal, now, nil, fn)
}

// evidence is Evidence that also calls each, when not nil, with every
// finished document as it is read, counted or not: Run's shares come from
// the same scan.
func evidence(ctx context.Context, store ReviewStore, tt *countersign.TaskType, cal *countersign.Calibration, now time.Time, each func(Case), fn func(c Case, wrong bool) error) (*EvidenceCounts, error) {
	counts := &EvidenceCounts{}
	// The documents held at the gate are read first and those finished
	// after: one decided between the two scans is then read finished,
	// where the other order would miss it.
	open := map[string]Case{}
	err := ReplayOpen(ctx, store, tt, cal, func(c Case) error {
		if c.HeldOut && c.Sampled && c.Reviewed {
			open[c.DocumentID] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The drawn and the reviewed documents wait for their reviews' due
	// times, read in one pass after the scans.
	var direct, drawn, reviewed []Case
	err = Replay(ctx, store, tt, cal, func(c Case) error {
		if each != nil {
			each(c)
		}
		delete(open, c.DocumentID)
		switch {
		case !c.Known && !c.Drawn && !c.Unjudged:
		case !c.HeldOut:
			counts.TrainedOn++
		case !c.Sampled:
			counts.Unsampled++
		case c.Drawn:
			drawn = append(drawn, c)
		case c.Reviewed:
			reviewed = append(reviewed, c)
		default:
			// A veto of a drawn document: its verdict at once (a veto is
			// nearly always a correction, so counting it early errs on
			// the strict side).
			direct = append(direct, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range open {
		reviewed = append(reviewed, c)
	}
	due, err := dueTimes(ctx, store, tt.Name)
	if err != nil {
		return nil, err
	}
	for _, c := range direct {
		if err := fn(c, c.Wrong); err != nil {
			return nil, err
		}
	}
	count := func(c Case) error {
		if !c.Known {
			counts.NoVerdict++
			if c.Open {
				counts.OverdueReviews++
			}
			return fn(c, true)
		}
		return fn(c, c.Wrong)
	}
	pending := func(at time.Time) {
		if at.After(counts.PendingUntil) {
			counts.PendingUntil = at
		}
	}
	for _, c := range drawn {
		at := due[c.DocumentID].audit
		if at.IsZero() || now.Before(at) {
			counts.PendingAudits++
			pending(at)
			continue
		}
		if err := count(c); err != nil {
			return nil, err
		}
	}
	for _, c := range reviewed {
		at := due[c.DocumentID].gate
		if at.IsZero() && c.Open || !at.IsZero() && now.Before(at) {
			// Not due yet, or held at the gate without a review yet.
			counts.PendingReviews++
			pending(at)
			continue
		}
		if err := count(c); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// dues are when a document's first gate review and its audit are due;
// zero without one (an audit the veto window or the delivery still hold
// back, a document from before reviews were kept).
type dues struct{ gate, audit time.Time }

// dueTimes reads, page by page, when the reviews of a task type are due:
// for each document, its first gate review's due time (counting reviews
// without a kind) and its audit's.
func dueTimes(ctx context.Context, store ReviewStore, taskType string) (map[string]dues, error) {
	out := map[string]dues{}
	f := countersign.ReviewFilter{TaskType: taskType, Limit: 1000}
	for {
		page, err := store.ListReviews(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("reviews of %s: %w", taskType, err)
		}
		for _, r := range page.Reviews {
			d := out[r.DocumentID]
			switch r.Kind {
			case "", countersign.ReviewGate:
				if d.gate.IsZero() || r.DueAt.Before(d.gate) {
					d.gate = r.DueAt
				}
			case countersign.ReviewAudit:
				if d.audit.IsZero() || r.DueAt.Before(d.audit) {
					d.audit = r.DueAt
				}
			default:
				continue
			}
			out[r.DocumentID] = d
		}
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}
