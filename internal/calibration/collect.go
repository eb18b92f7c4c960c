package calibration

import (
	"context"
	"errors"
	"slices"

	"github.com/countersign/countersign"
)

// Outcomes are the field outcomes of a task type's human-decided documents,
// what a calibration is fitted on.
type Outcomes struct {
	Samples   map[string][]Sample
	Documents int
	// TaskTypeVersions are the versions the documents ran under, sorted.
	TaskTypeVersions []string
}

// Collect reads, oldest first, every document of a task type a person
// approved, corrected or audited, and turns each drafted field into a
// sample: its raw score, and whether the person kept it unchanged (correct)
// or changed or removed it (wrong). Rejected documents say nothing about
// their fields and are left out, as are auto-accepted ones nobody audited.
func Collect(ctx context.Context, docs countersign.DocumentStore, taskType string) (*Outcomes, error) {
	out := &Outcomes{Samples: map[string][]Sample{}}
	versions := map[string]bool{}
	err := docs.ScanDocuments(ctx, countersign.DocumentFilter{
		TaskType: taskType,
		Statuses: []countersign.Status{countersign.StatusAccepted},
	}, func(d *countersign.Document) error {
		fields := HumanOutcome(d)
		if fields == nil {
			return nil
		}
		out.Documents++
		versions[d.TaskTypeVersion] = true
		for _, f := range fields {
			out.Samples[f.Field] = append(out.Samples[f.Field], Sample{Score: f.Raw, Correct: f.Correct})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for v := range versions {
		out.TaskTypeVersions = append(out.TaskTypeVersions, v)
	}
	slices.Sort(out.TaskTypeVersions)
	return out, nil
}

// FieldOutcome is what a person's decision says about one drafted field.
type FieldOutcome struct {
	Field   string
	Raw     float64
	Correct bool
}

// HumanOutcome returns the outcome of every scored, drafted field of a
// document a person approved or corrected, or audited after it was
// auto-accepted, in field name order; nil when no person checked it.
func HumanOutcome(d *countersign.Document) []FieldOutcome {
	f := d.Final
	// A veto picks its documents by hand: its verdicts would bias the fit.
	if f == nil || d.Draft.Failed() || d.Confidence == nil || f.Vetoed {
		return nil
	}
	decided := f.DecidedBy != countersign.SystemActor && (f.Action == countersign.ActionApprove || f.Action == countersign.ActionCorrect)
	if !decided && f.AuditedBy == "" {
		return nil
	}
	changes := map[string]countersign.Change{}
	for _, c := range f.Diff {
		changes[c.Field] = c.Change
	}
	var out []FieldOutcome
	for _, name := range d.Draft.Fields.Names() {
		fs, scored := d.Confidence.Fields[name]
		if !scored {
			continue
		}
		out = append(out, FieldOutcome{Field: name, Raw: RawScore(d.Confidence, fs), Correct: changes[name] == countersign.ChangeUnchanged})
	}
	return out
}

// RawScore is a field's score before calibration. A confidence recorded
// without a calibration has Score equal to its raw score (and, when it was
// recorded before raw scores were kept apart, Score alone).
func RawScore(c *countersign.Confidence, fs countersign.FieldScore) float64 {
	if c.Calibration == "" {
		return fs.Score
	}
	return fs.Raw
}

// Active returns the calibration routing uses, the newest stored active, or
// nil when there is none: scores are then used raw.
func Active(ctx context.Context, cals countersign.CalibrationStore, taskType string) (*countersign.Calibration, error) {
	cal, err := cals.ActiveCalibration(ctx, taskType)
	if errors.Is(err, countersign.ErrNotFound) {
		return nil, nil
	}
	return cal, err
}
