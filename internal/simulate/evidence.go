package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
)

// ReviewStore is what Evidence reads: the documents, and the reviews of
// those a person was asked to decide or audit.
type ReviewStore interface {
	countersign.DocumentStore
	ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error)
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
	// PendingAudits counts the documents drawn for an audit not due (or
	// not open) yet, PendingReviews those sent to a person whose review is
	// not due yet: left out however far their review went.
	PendingAudits, PendingReviews int
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
// Which documents count depends on the clock alone, never on what people
// found or how long they took to find it. A document drawn for an audit
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
	counts := &EvidenceCounts{}
	var direct []Case
	// The drawn and the reviewed documents wait for the scans to end:
	// their reviews' due times are read after them, not while they hold
	// the store.
	var drawn, reviewed []Case
	err := Replay(ctx, store, tt, cal, func(c Case) error {
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
			// A veto of a drawn document.
			direct = append(direct, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Held at the gate: counted, as wrong, once their review is due.
	err = ReplayOpen(ctx, store, tt, cal, func(c Case) error {
		if c.HeldOut && c.Sampled && c.Reviewed {
			reviewed = append(reviewed, c)
		}
		return nil
	})
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
			return fn(c, true)
		}
		return fn(c, c.Wrong)
	}
	for _, c := range drawn {
		due, err := reviewDue(ctx, store, c.DocumentID, countersign.ReviewAudit)
		if err != nil {
			return nil, err
		}
		if due.IsZero() || now.Before(due) {
			counts.PendingAudits++
			continue
		}
		if err := count(c); err != nil {
			return nil, err
		}
	}
	for _, c := range reviewed {
		due, err := reviewDue(ctx, store, c.DocumentID, countersign.ReviewGate)
		if err != nil {
			return nil, err
		}
		if due.IsZero() && c.Open || !due.IsZero() && now.Before(due) {
			// Not due yet, or held at the gate without a review yet.
			counts.PendingReviews++
			continue
		}
		if err := count(c); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// reviewDue is when the first review of a kind of a document is due (the
// gate's, counting its reviews without a kind, or the audit's); zero while
// it has none (an audit the veto window or the delivery still hold back).
func reviewDue(ctx context.Context, store ReviewStore, documentID string, kind countersign.ReviewKind) (time.Time, error) {
	reviews, err := store.ReviewsForDocument(ctx, documentID)
	if err != nil {
		return time.Time{}, fmt.Errorf("reviews of %s: %w", documentID, err)
	}
	var due time.Time
	for _, r := range reviews {
		k := r.Kind
		if k == "" {
			k = countersign.ReviewGate
		}
		if k == kind && (due.IsZero() || r.DueAt.Before(due)) {
			due = r.DueAt
		}
	}
	return due, nil
}
