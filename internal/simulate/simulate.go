// Package simulate answers "what if the threshold were X?" for a task type:
// it replays the stored confidence of every finished document and the
// people's decisions on them through the current policy at a range of
// thresholds, and counts how many documents would have gone to a person and
// how many auto-accepted ones would have been wrong.
package simulate

import (
	"context"
	"math"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/policy"
	"github.com/countersign/countersign/internal/scoring"
	"github.com/countersign/countersign/workflows"
)

// DefaultThresholds are the thresholds a simulation always reports.
var DefaultThresholds = []float64{0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99}

// Row is the outcome of one threshold.
type Row struct {
	Threshold float64 `json:"threshold"`
	// Review is how many documents would have gone to a person (low
	// confidence, a risk rule, no draft); AutoAccepted how many not.
	Review       int `json:"review"`
	AutoAccepted int `json:"auto_accepted"`
	Rejected     int `json:"rejected"`
	// Wrong counts auto-accepted documents a person had in fact corrected or
	// rejected; Unknown those nobody checked (auto-accepted at the time).
	Wrong   int `json:"wrong"`
	Unknown int `json:"unknown"`
	// ReviewRate is Review over all documents; ErrorRate is Wrong over the
	// auto-accepted documents whose outcome is known.
	ReviewRate float64 `json:"review_rate"`
	ErrorRate  float64 `json:"error_rate"`
}

// Result is a whole simulation.
type Result struct {
	TaskType      string `json:"task_type"`
	PolicyVersion string `json:"policy_version"`
	Calibration   string `json:"calibration,omitempty"`
	Documents     int    `json:"documents"`
	// Checked is how many documents a person decided.
	Checked int   `json:"checked"`
	Rows    []Row `json:"rows"`
}

// Run simulates tt's current policy, in hotl mode, at the default
// thresholds and the extra ones given, over every finished document of the
// task type. Scores are mapped through cal, the calibration routing would use
// now (nil: raw scores). Documents are routed at every threshold as they are
// read, so memory stays flat however many there are.
func Run(ctx context.Context, docs countersign.DocumentStore, tt *countersign.TaskType, cal *countersign.Calibration, extra ...float64) (*Result, error) {
	thresholds := append(slices.Clone(DefaultThresholds), extra...)
	slices.Sort(thresholds)
	thresholds = slices.Compact(thresholds)

	res := &Result{TaskType: tt.Name, PolicyVersion: tt.Policy.Version}
	if cal != nil {
		res.Calibration = cal.Version
	}
	rows := make([]Row, len(thresholds))
	for i, t := range thresholds {
		rows[i].Threshold = t
	}
	err := docs.ScanDocuments(ctx, countersign.DocumentFilter{
		TaskType: tt.Name,
		Statuses: []countersign.Status{countersign.StatusAccepted, countersign.StatusRejected},
	}, func(d *countersign.Document) error {
		if d.Confidence == nil || d.Final == nil {
			return nil
		}
		conf := scoring.Recalibrate(tt, d.Confidence, cal, calibration.RawScore)
		var hits []countersign.RuleHit
		if !d.Draft.Failed() {
			hits = policy.Evaluate(tt.Policy, d.Draft.Fields, d.Metadata, conf.Overall)
		}
		// A person decided it or audited it; a veto picks its documents by
		// hand, so it tells nothing about the rate of errors.
		known := (d.Final.DecidedBy != countersign.SystemActor || d.Final.AuditedBy != "") && !d.Final.Vetoed
		correct := known && d.Final.Action != countersign.ActionReject && unchanged(d.Final.Diff)
		res.Documents++
		if known {
			res.Checked++
		}
		for i := range rows {
			p := tt.Policy
			p.Mode, p.AutoAcceptThreshold, p.AuditSampleRate = countersign.ModeHOTL, rows[i].Threshold, 0
			route := workflows.Route(workflows.RouteInput{Policy: p, DocumentID: d.ID, Draft: d.Draft, Confidence: conf, Rules: hits})
			switch route.Outcome {
			case countersign.OutcomeHumanReview:
				rows[i].Review++
			case countersign.OutcomeReject:
				rows[i].Rejected++
			default:
				rows[i].AutoAccepted++
				switch {
				case !known:
					rows[i].Unknown++
				case !correct:
					rows[i].Wrong++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if res.Documents > 0 {
			rows[i].ReviewRate = ratio(rows[i].Review, res.Documents)
		}
		if known := rows[i].AutoAccepted - rows[i].Unknown; known > 0 {
			rows[i].ErrorRate = ratio(rows[i].Wrong, known)
		}
	}
	res.Rows = rows
	return res, nil
}

func unchanged(diff []countersign.FieldChange) bool {
	for _, c := range diff {
		if c.Change != countersign.ChangeUnchanged {
			return false
		}
	}
	return true
}

// ratio is a/b to four decimals, as scores are kept.
func ratio(a, b int) float64 {
	return math.Round(float64(a)/float64(b)*1e4) / 1e4
}
