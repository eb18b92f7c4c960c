package certify

import (
	"context"
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
	// person's verdict when due: a review or an audit still open then (or
	// abandoned), a review that timed out; OverdueReviews those of them
	// still held at the gate. Each is among Samples as wrong, since leaving
	// them out could leave out exactly the documents nobody could confirm.
	// PendingAudits counts the documents drawn for an audit that is not
	// due yet (or not open yet), left out whatever the audit said;
	// PendingReviews the documents sent to a person whose review is not
	// due yet, left out whether it was decided or not.
	NoVerdict, OverdueReviews, PendingAudits, PendingReviews int
	// PendingUntil is when the last of the pending documents with a due
	// time is due.
	PendingUntil time.Time
	// SampleRate is the share of documents the sample took when the newest
	// of Samples was routed: 1 in hitl, the audit sample rate in hotl. More
	// held-out documents then take 1/SampleRate documents each.
	SampleRate float64
}

// Collect reads the evidence of tt's task type at now (simulate.Evidence):
// the documents a person decided or audited (gold items left out) that cal
// did not train on and that belong to the uniform sample, each counted once
// its review or audit is due, with its confidence recomputed through cal
// (nil: uncalibrated) and what tt's current rules do with it.
func Collect(ctx context.Context, store simulate.ReviewStore, tt *countersign.TaskType, cal *countersign.Calibration, now time.Time) (*Data, error) {
	data := &Data{}
	counts, err := simulate.Evidence(ctx, store, tt, cal, now, func(c simulate.Case, wrong bool) error {
		data.Samples = append(data.Samples, Sample{Confidence: c.Confidence, Route: c.Route, Wrong: wrong})
		if data.Since.IsZero() || c.CreatedAt.Before(data.Since) {
			data.Since = c.CreatedAt
		}
		if !c.CreatedAt.Before(data.Until) {
			data.Until, data.SampleRate = c.CreatedAt, c.SampleRate
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	data.TrainedOn, data.Unsampled, data.NoVerdict, data.OverdueReviews = counts.TrainedOn, counts.Unsampled, counts.NoVerdict, counts.OverdueReviews
	data.PendingAudits, data.PendingReviews, data.PendingUntil = counts.PendingAudits, counts.PendingReviews, counts.PendingUntil
	return data, nil
}
