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
	// person's verdict: an audit overdue (or abandoned) at the time of
	// collection, a review that timed out. Each is among Samples as wrong,
	// since leaving them out could leave out exactly the documents nobody
	// could confirm. PendingAudits counts those left out because their
	// audit is open but not due yet, as a review still pending is.
	NoVerdict, PendingAudits int
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
// drawn (a veto picks by hand; the draw did not). A document of the sample
// without a person's verdict counts as wrong (NoVerdict), unless its audit
// is open and not due at now, when it is left out as a pending review is.
func Collect(ctx context.Context, docs countersign.DocumentStore, tt *countersign.TaskType, cal *countersign.Calibration, now time.Time) (*Data, error) {
	data := &Data{}
	err := simulate.Replay(ctx, docs, tt, cal, func(c simulate.Case) error {
		switch {
		case !c.Known && !c.AuditOpen && !c.Unjudged:
			return nil
		case !c.HeldOut:
			data.TrainedOn++
			return nil
		case !c.Sampled:
			data.Unsampled++
			return nil
		case c.AuditOpen && now.Before(c.AuditDue):
			data.PendingAudits++
			return nil
		}
		wrong := c.Wrong
		if !c.Known {
			data.NoVerdict++
			wrong = true
		}
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
	return data, nil
}
