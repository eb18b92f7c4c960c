package calibration

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

// Outcomes are the human outcomes of a task type's reviewed documents,
// what a calibration is fitted on.
type Outcomes struct {
	Documents []DocumentOutcome
}

// DocumentOutcome is what a person's decision says about one document's
// draft.
type DocumentOutcome struct {
	ID              string
	CreatedAt       time.Time
	TaskTypeVersion string
	// Confidence is the confidence recorded when the draft was scored.
	Confidence *countersign.Confidence
	// Fields are the outcomes of the drafted, scored fields, and of the
	// optional fields the draft left empty that were scored as omissions.
	Fields []FieldOutcome
	// Missing counts the required fields the draft had no value for.
	Missing int
	// Correct is set when the person kept every field as drafted: nothing
	// corrected, removed or added.
	Correct bool
}

// Collect reads, oldest first, every document of a task type a person
// approved, corrected or audited, with what the decision says about its
// draft (see HumanOutcome). Rejected documents say nothing about their
// fields and are left out, as are auto-accepted ones nobody audited and
// pre-labelled ones (countersign.Prelabel), whose drafts were made
// elsewhere.
func Collect(ctx context.Context, docs countersign.DocumentStore, taskType string) (*Outcomes, error) {
	out := &Outcomes{}
	err := docs.ScanDocuments(ctx, countersign.DocumentFilter{
		TaskType: taskType,
		Statuses: []countersign.Status{countersign.StatusAccepted},
	}, func(d *countersign.Document) error {
		if d.Draft != nil && d.Draft.Extractor == countersign.ExtractorPrelabel {
			// A draft made elsewhere says nothing about how far the
			// engine's own drafts can be trusted.
			return nil
		}
		fields := HumanOutcome(d)
		if fields == nil {
			return nil
		}
		o := DocumentOutcome{ID: d.ID, CreatedAt: d.CreatedAt, TaskTypeVersion: d.TaskTypeVersion, Confidence: d.Confidence, Fields: fields, Missing: MissingRequired(d.Confidence, d.Draft.Fields), Correct: true}
		for _, c := range d.Final.Diff {
			o.Correct = o.Correct && c.Change == countersign.ChangeUnchanged
		}
		out.Documents = append(out.Documents, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MissingRequired counts the required fields a confidence scored that the
// draft has no value for.
func MissingRequired(c *countersign.Confidence, drafted countersign.Fields) int {
	n := 0
	for name, fs := range c.Fields {
		if _, ok := drafted[name]; !ok && fs.Required {
			n++
		}
	}
	return n
}

// FieldOutcome is what a person's decision says about one drafted field,
// or about an empty one scored as an omission: right when the person left
// it empty too.
type FieldOutcome struct {
	Field string
	// Raw is the field's score before calibration, Signals what it was
	// combined from.
	Raw     float64
	Signals map[string]float64
	// Words are the words around the drafted value (see
	// countersign.FieldScore.Words).
	Words []string
	// Failed is set when the value failed a hard check (schema, grounding,
	// constraint): no confidence model is asked about it.
	Failed  bool
	Correct bool
}

// HumanOutcome returns the outcome of every scored, drafted field of a
// document a person approved or corrected, or audited after it was
// auto-accepted, in field name order, then of every empty field scored as
// an omission, in field name order: right unless the person added a value;
// nil when no person checked it.
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
	out := []FieldOutcome{}
	for _, name := range d.Draft.Fields.Names() {
		fs, scored := d.Confidence.Fields[name]
		if !scored {
			continue
		}
		out = append(out, FieldOutcome{
			Field:   name,
			Raw:     RawScore(d.Confidence, fs),
			Signals: fs.Signals,
			Words:   fs.Words,
			Failed:  len(fs.Signals) > 0 && scoring.HardFailure(fs.Signals),
			Correct: changes[name] == countersign.ChangeUnchanged,
		})
	}
	for _, name := range slices.Sorted(maps.Keys(d.Confidence.Fields)) {
		fs := d.Confidence.Fields[name]
		if _, drafted := d.Draft.Fields[name]; drafted || !scoring.IsOmission(fs) {
			continue
		}
		out = append(out, FieldOutcome{
			Field:   name,
			Raw:     RawScore(d.Confidence, fs),
			Signals: fs.Signals,
			Correct: changes[name] != countersign.ChangeAdded,
		})
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
