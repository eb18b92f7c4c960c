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
	// EvidenceCounts say what the evidence left out (trained on, outside
	// the uniform sample, not due yet) and counted as wrong for want of a
	// verdict when due (simulate.Evidence).
	simulate.EvidenceCounts
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
	data.EvidenceCounts = *counts
	return data, nil
}

// Note copies into r, the test of d's samples, what d left out and counted
// as wrong, so that a refusal can say so.
func (d *Data) Note(r *Result) {
	r.Unsampled, r.NoVerdict, r.OverdueReviews, r.SampleRate = d.Unsampled, d.NoVerdict, d.OverdueReviews, d.SampleRate
	r.PendingAudits, r.PendingReviews = d.PendingAudits, d.PendingReviews
	if !d.PendingUntil.IsZero() {
		until := d.PendingUntil
		r.PendingUntil = &until
	}
}

// Early reports whether more of d is still to come due than counts: an
// attempt now would spend its share of the level on the smaller part. The
// counts do not depend on any verdict, so refusing on them peeks at
// nothing. With nothing counted there is nothing to test, and no attempt
// to spend either.
func (d *Data) Early() bool {
	return len(d.Samples) > 0 && d.PendingReviews+d.PendingAudits > len(d.Samples)
}

// EarlyRefusal is the refusal of an Early certification, untested and not
// an attempt: the result, with what d left out, and the message.
func (d *Data) EarlyRefusal(taskType string, budget, level float64) (*Result, string) {
	res := &Result{Budget: budget, Level: level, Documents: len(d.Samples)}
	d.Note(res)
	msg := fmt.Sprintf("no threshold of %s was tested: %d reviewed or audited documents are left out until their review or audit is due, decided or not (so that quick approvals do not come in ahead of slow corrections), more than the %d that count now; certifying on the smaller part would spend an attempt (every attempt spends some of the level): try again once they are due",
		taskType, d.PendingReviews+d.PendingAudits, len(d.Samples))
	if res.PendingUntil != nil {
		msg += ", the last at " + res.PendingUntil.UTC().Format(time.RFC3339)
	}
	return res, msg + " (this was not counted as an attempt)"
}
