// Package report computes the quality figures of a task type from the
// store: documents by status and route, the correction rate and calibration
// (ECE) of each field, how often two reviewers of one document agreed
// (percent agreement and Cohen's kappa per field), and the review load,
// decision times and SLA breaches. It reads documents a batch at a time, so
// memory grows with the number of fields and reviews, not documents.
package report

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/scoring"
)

// Report is the quality figures of one task type.
type Report struct {
	TaskType  string                      `json:"task_type"`
	Documents int                         `json:"documents"`
	Statuses  map[countersign.Status]int  `json:"statuses"`
	Routes    map[countersign.Outcome]int `json:"routes"`
	// AutoAcceptRate is the share of routed documents accepted without a
	// person in the gate (with or without a later audit).
	AutoAcceptRate float64       `json:"auto_accept_rate"`
	Fields         []FieldReport `json:"fields"`
	Reviews        ReviewReport  `json:"reviews"`
	// Comparison is how far rankings agree, for a comparison task type
	// (documents whose draft is a judge's ranking); nil otherwise.
	Comparison *ComparisonReport `json:"comparison,omitempty"`
}

// FieldReport is what people did with one field.
type FieldReport struct {
	Field string `json:"field"`
	// Checked counts documents whose field a person approved, corrected or
	// audited; Corrected those where the person changed or removed it.
	Checked        int     `json:"checked"`
	Corrected      int     `json:"corrected"`
	CorrectionRate float64 `json:"correction_rate"`
	// ECE is the expected calibration error of the field's confidence
	// against those outcomes (10 bins); nil without outcomes.
	ECE *float64 `json:"ece,omitempty"`
	// Pairs counts documents two reviewers decided; Agreement and Kappa
	// compare the values they settled on, nil when undefined.
	Pairs     int      `json:"pairs"`
	Agreement *float64 `json:"agreement,omitempty"`
	Kappa     *float64 `json:"kappa,omitempty"`
	// Groups counts documents three or more people decided; FleissKappa
	// (when the same number of people decided each) and Alpha
	// (Krippendorff's, nominal) compare the values all of them settled on,
	// nil when undefined.
	Groups      int      `json:"groups"`
	FleissKappa *float64 `json:"fleiss_kappa,omitempty"`
	Alpha       *float64 `json:"alpha,omitempty"`
}

// ReviewReport is the load on people and how fast they decide.
type ReviewReport struct {
	Opened  int `json:"opened"`
	Pending int `json:"pending"`
	Audits  int `json:"audits"`
	// Overdue counts pending reviews past their due time; Breaches counts
	// reviews closed after it plus the overdue ones.
	Overdue  int `json:"overdue"`
	Breaches int `json:"breaches"`
	// OldestPending is the age of the oldest pending review, in seconds.
	OldestPending float64 `json:"oldest_pending_seconds"`
	// DecisionSeconds are percentiles of the time from opening to
	// decision: p50, p90, p99.
	DecisionSeconds map[string]float64 `json:"decision_seconds"`
}

// Store is what a report reads.
type Store interface {
	countersign.DocumentStore
	countersign.ReviewStore
}

// ECEBins is the number of bins of the per-field calibration error.
const ECEBins = 10

// Build computes the report of a task type at time now.
func Build(ctx context.Context, s Store, taskType string, now time.Time) (*Report, error) {
	r := &Report{TaskType: taskType, Statuses: map[countersign.Status]int{}, Routes: map[countersign.Outcome]int{}}
	fields := map[string]*fieldAcc{}
	field := func(name string) *fieldAcc {
		if fields[name] == nil {
			fields[name] = &fieldAcc{}
		}
		return fields[name]
	}
	var comparison comparisonAcc
	err := s.ScanDocuments(ctx, countersign.DocumentFilter{TaskType: taskType}, func(d *countersign.Document) error {
		r.Documents++
		r.Statuses[d.Status]++
		if d.Route != nil {
			r.Routes[d.Route.Outcome]++
		}
		for _, o := range calibration.HumanOutcome(d) {
			if scoring.IsOmission(d.Confidence.Fields[o.Field]) {
				continue // a field the draft left empty: not a drafted value people changed
			}
			acc := field(o.Field)
			acc.checked++
			if !o.Correct {
				acc.corrected++
			}
			acc.samples = append(acc.samples, calibration.Sample{Score: d.Confidence.Fields[o.Field].Score, Correct: o.Correct})
		}
		var firsts []*countersign.Decision
		if d.Final != nil && d.Final.Lineage != nil && len(d.Final.Lineage.Reviewers) >= 2 {
			var err error
			if firsts, err = firstDecisions(ctx, s, d.ID); err != nil {
				return err
			}
			settledBy := reviewerValues(d, firsts)
			for name, values := range settledBy {
				if len(values) >= 2 {
					field(name).pairs = append(field(name).pairs, [2]string{values[0], values[1]})
				}
				if len(values) >= 3 {
					field(name).groups = append(field(name).groups, values)
				}
			}
		}
		comparison.add(d, firsts)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Comparison = comparison.report()
	routed := 0
	for _, n := range r.Routes {
		routed += n
	}
	if routed > 0 {
		r.AutoAcceptRate = float64(r.Routes[countersign.OutcomeAutoAccept]+r.Routes[countersign.OutcomeAutoAcceptWithAudit]) / float64(routed)
	}
	r.Fields = fieldReports(fields)
	r.Reviews, err = reviews(ctx, s, taskType, now)
	return r, err
}

type fieldAcc struct {
	checked, corrected int
	samples            []calibration.Sample
	pairs              [][2]string
	groups             [][]string // values of documents three or more people decided
}

func fieldReports(fields map[string]*fieldAcc) []FieldReport {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]FieldReport, 0, len(names))
	for _, name := range names {
		acc := fields[name]
		fr := FieldReport{Field: name, Checked: acc.checked, Corrected: acc.corrected, Pairs: len(acc.pairs)}
		if acc.checked > 0 {
			fr.CorrectionRate = float64(acc.corrected) / float64(acc.checked)
			ece := calibration.ECE(acc.samples, ECEBins, nil)
			fr.ECE = &ece
		}
		if share, ok := quality.PercentAgreement(acc.pairs); ok {
			fr.Agreement = &share
		}
		if k, ok := quality.CohenKappa(acc.pairs); ok {
			fr.Kappa = &k
		}
		fr.Groups = len(acc.groups)
		if k, ok := quality.FleissKappa(acc.groups); ok {
			fr.FleissKappa = &k
		}
		if a, ok := quality.KrippendorffAlpha(acc.groups); ok {
			fr.Alpha = &a
		}
		out = append(out, fr)
	}
	return out
}

// firstDecisions is each person's first decision on a document, in the
// order they first decided.
func firstDecisions(ctx context.Context, s Store, documentID string) ([]*countersign.Decision, error) {
	decisions, err := s.Decisions(ctx, documentID)
	if err != nil {
		return nil, err
	}
	var firsts []*countersign.Decision
	seen := map[string]bool{}
	for i := range decisions {
		if !seen[decisions[i].Actor] {
			seen[decisions[i].Actor] = true
			firsts = append(firsts, &decisions[i])
		}
	}
	return firsts, nil
}

// reviewerValues lists, field by field, the values each person who
// decided on a document settled on, firsts being each person's first
// decision: the draft's value when they approved, their value when they
// corrected, "rejected" when they rejected. Nil with fewer than two people.
func reviewerValues(d *countersign.Document, firsts []*countersign.Decision) map[string][]string {
	if len(firsts) < 2 || d.Draft.Failed() {
		return nil
	}
	out := map[string][]string{}
	for _, name := range d.Draft.Fields.Names() {
		for _, dec := range firsts {
			out[name] = append(out[name], settled(d.Draft.Fields, dec, name))
		}
	}
	return out
}

func settled(draft countersign.Fields, d *countersign.Decision, name string) string {
	if d.Action == countersign.ActionReject {
		return "rejected"
	}
	value, ok := countersign.Correct(draft, d.Fields)[name]
	if !ok {
		return "removed"
	}
	raw, _ := json.Marshal(value)
	return string(raw)
}

// reviews pages through a task type's reviews. Veto reviews are records
// of a supervisor's override, not work in a queue, and are left out.
func reviews(ctx context.Context, s Store, taskType string, now time.Time) (ReviewReport, error) {
	out := ReviewReport{DecisionSeconds: map[string]float64{}}
	var decided []time.Duration
	f := countersign.ReviewFilter{TaskType: taskType, Limit: 500}
	for {
		page, err := s.ListReviews(ctx, f)
		if err != nil {
			return out, err
		}
		for _, rv := range page.Reviews {
			if rv.Kind == countersign.ReviewVeto {
				continue
			}
			out.Opened++
			if rv.Kind == countersign.ReviewAudit {
				out.Audits++
			}
			switch {
			case rv.Status == countersign.ReviewPending:
				out.Pending++
				out.OldestPending = max(out.OldestPending, now.Sub(rv.CreatedAt).Seconds())
				if now.After(rv.DueAt) {
					out.Overdue++
					out.Breaches++
				}
			case rv.ClosedAt != nil && rv.Outcome != "":
				decided = append(decided, rv.ClosedAt.Sub(rv.CreatedAt))
				if rv.ClosedAt.After(rv.DueAt) {
					out.Breaches++
				}
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	for _, p := range []struct {
		name string
		p    float64
	}{{"p50", 50}, {"p90", 90}, {"p99", 99}} {
		if d, ok := quality.Percentile(decided, p.p); ok {
			out.DecisionSeconds[p.name] = d.Seconds()
		}
	}
	return out, nil
}
