package certify

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/simulate"
)

// Data is the evidence a certificate is made from: the reviewed documents
// of a task type the calibration did not train on.
type Data struct {
	Samples []Sample
	// Since and Until are the creation times of the oldest and newest of
	// them.
	Since, Until time.Time
	// TrainedOn counts the reviewed documents left out because the
	// calibration trained on them; Unsampled those left out because they
	// do not belong to the uniform sample of the task type's documents
	// (simulate.Sampled: in hotl, documents a person saw because they fell
	// below the threshold in force, and were not drawn).
	TrainedOn, Unsampled int
	// NoVerdict counts the held-out documents of the sample without a
	// person's verdict: an audit still open when due (or abandoned), a
	// review that timed out. Each is among Samples as wrong, since leaving
	// them out could leave out exactly the documents nobody could confirm.
	// PendingAudits counts the documents drawn for an audit that is not
	// due yet (or not open yet), left out whatever the audit said;
	// PendingReviews the documents sent to a person whose review is not
	// due yet, left out whether it was decided or not.
	NoVerdict, PendingAudits, PendingReviews int
	// SampleRate is the share of documents the sample took when the newest
	// of Samples was routed: 1 in hitl, the audit sample rate in hotl. More
	// held-out documents then take 1/SampleRate documents each.
	SampleRate float64
}

// Collect reads the finished documents of tt's task type a person decided
// or audited (gold items left out) that cal did not train on and that
// belong to the uniform sample (simulate.Sampled: every document of a
// period in hitl, the audit sample rate's share of a period in hotl), each
// with its confidence recomputed through cal (nil: uncalibrated) and what
// tt's current rules do with it. A veto is left out unless its document was
// drawn (a veto picks by hand; the draw did not). A review that timed out
// counts as wrong (NoVerdict).
//
// A document drawn for an audit counts once its audit review is due at
// now, whatever became of it: decided, with the audit's verdict; still
// open, as wrong (NoVerdict). Before that it is left out (PendingAudits)
// however the audit went, since quick confirmations would otherwise come
// in ahead of slow corrections: which drawn documents count depends on the
// clock alone. The same holds for a document sent to a person at the human
// gate: it counts once its review is due (the first gate review's due
// time), decided, with the verdict, or still open (held at the gate, or
// timed out), as wrong; before that it is left out (PendingReviews)
// however far its review went. A document with no gate review in the store
// (data from before reviews were kept) counts as it is.
func Collect(ctx context.Context, store Store, tt *countersign.TaskType, cal *countersign.Calibration, now time.Time) (*Data, error) {
	data := &Data{}
	add := func(c simulate.Case, wrong bool) {
		data.Samples = append(data.Samples, Sample{Confidence: c.Confidence, Route: c.Route, Wrong: wrong})
		if data.Since.IsZero() || c.CreatedAt.Before(data.Since) {
			data.Since = c.CreatedAt
		}
		if !c.CreatedAt.Before(data.Until) {
			data.Until, data.SampleRate = c.CreatedAt, c.SampleRate
		}
	}
	// The drawn and the reviewed documents wait for the scans to end:
	// their reviews' due times are read after them, not while they hold
	// the store.
	var drawn, reviewed []simulate.Case
	err := simulate.Replay(ctx, store, tt, cal, func(c simulate.Case) error {
		switch {
		case !c.Known && !c.Drawn && !c.Unjudged:
			return nil
		case !c.HeldOut:
			data.TrainedOn++
			return nil
		case !c.Sampled:
			data.Unsampled++
			return nil
		case c.Drawn:
			drawn = append(drawn, c)
			return nil
		case c.Reviewed:
			reviewed = append(reviewed, c)
			return nil
		case c.Unjudged:
			data.NoVerdict++
			add(c, true)
			return nil
		}
		add(c, c.Wrong)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Held at the gate: counted, as wrong, once their review is due.
	err = simulate.ReplayOpen(ctx, store, tt, cal, func(c simulate.Case) error {
		if c.HeldOut && c.Sampled && c.Reviewed {
			reviewed = append(reviewed, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range drawn {
		due, err := reviewDue(ctx, store, c.DocumentID, countersign.ReviewAudit)
		if err != nil {
			return nil, err
		}
		switch {
		case due.IsZero() || now.Before(due):
			data.PendingAudits++
		case !c.Known:
			data.NoVerdict++
			add(c, true)
		default:
			add(c, c.Wrong)
		}
	}
	for _, c := range reviewed {
		due, err := reviewDue(ctx, store, c.DocumentID, countersign.ReviewGate)
		if err != nil {
			return nil, err
		}
		switch {
		case due.IsZero() && c.Open:
			// Held at the gate without a review yet: not due.
			data.PendingReviews++
		case !due.IsZero() && now.Before(due):
			data.PendingReviews++
		case !c.Known:
			data.NoVerdict++
			add(c, true)
		default:
			add(c, c.Wrong)
		}
	}
	return data, nil
}

// Store is what Collect reads: the documents, and the reviews of those
// drawn for an audit.
type Store interface {
	countersign.DocumentStore
	ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error)
}

// reviewDue is when the first review of a kind of a document is due (the
// gate's, counting its reviews without a kind, or the audit's); zero while
// it has none (an audit the veto window or the delivery still hold back).
func reviewDue(ctx context.Context, store Store, documentID string, kind countersign.ReviewKind) (time.Time, error) {
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
