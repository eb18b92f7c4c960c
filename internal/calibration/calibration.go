// Package calibration maps raw confidence scores to observed correctness.
// A field a reviewer kept unchanged was correct, a corrected or removed one
// was wrong; from these outcomes it fits one monotone curve per field and a
// pooled one, and measures how well scores matched correctness before and
// after.
package calibration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"

	"github.com/countersign/countersign"
)

// Sample is one observed field: its raw score and whether a person kept it
// unchanged.
type Sample struct {
	Score   float64
	Correct bool
}

// The figures Fit uses, as countersign.FieldReliability documents them.
const (
	// Bins is the number of equal-width bins of the ECE.
	Bins = 10
	// Folds is the number of cross-validation folds of the ECE after
	// calibration.
	Folds = 5
	// MinFieldSamples is the fewest outcomes a field needs for a curve of
	// its own; see Fit.
	MinFieldSamples = 30
)

// Fit fits the calibration of a task type from per-field outcomes.
//
// A field gets a curve of its own when it has at least MinFieldSamples
// outcomes, at least one correct and one wrong. A field reviewers never
// corrected (or never kept) would get a flat curve at 1 (or 0), a certainty
// no count of samples supports; the pooled curve, fitted on every field's
// outcomes, has seen both and is the better guess. Other fields use it.
//
// The report has one row per field, sorted by name: ECEBefore is that of the
// raw scores, ECEAfter is cross-validated for the curve the field gets. For
// a field on the pooled curve, its held-out samples are predicted by pooled
// curves fitted without them; the pooled samples are every field's, fields
// in name order, so fold assignment does not depend on map order. A field
// with no samples has zero figures. Report.Pooled gives the same figures for
// the pooled curve over all samples.
//
// The version is the first 12 hex digits of the SHA-256 of the curves as
// JSON, so the same outcomes always give the same version. CreatedAt,
// CreatedBy, Report.Documents and Report.TaskTypeVersions are left for the
// caller. Fit fails with countersign.ErrInvalid when there are no outcomes
// or a score is not a finite number.
func Fit(taskType string, samples map[string][]Sample) (*countersign.Calibration, error) {
	names := slices.Sorted(maps.Keys(samples))
	var pooled []Sample
	for _, name := range names {
		for i, s := range samples[name] {
			if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) {
				return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: field %s, outcome %d: score %v is not a finite number", taskType, name, i, s.Score)
			}
		}
		pooled = append(pooled, samples[name]...)
	}
	if len(pooled) == 0 {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: no outcomes to learn from", taskType)
	}

	cal := &countersign.Calibration{
		TaskType: taskType,
		Fields:   map[string]countersign.Curve{},
		Pooled:   Isotonic(pooled),
	}
	pooledOOF := outOfFold(pooled, Folds)
	cal.Report.Pooled = measure(pooled, pooledOOF)
	start := 0
	for _, name := range names {
		s := samples[name]
		oof := pooledOOF[start : start+len(s)]
		start += len(s)
		own := ownCurve(s)
		if own {
			cal.Fields[name] = Isotonic(s)
			oof = outOfFold(s, Folds)
		}
		r := measure(s, oof)
		r.Field, r.Own = name, own
		cal.Report.Fields = append(cal.Report.Fields, r)
	}

	v, err := version(cal)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInternal, "calibrate %s: version: %w", taskType, err)
	}
	cal.Version = v
	return cal, nil
}

// ownCurve reports whether a field's outcomes earn it a curve of its own.
func ownCurve(samples []Sample) bool {
	correct := countCorrect(samples)
	return len(samples) >= MinFieldSamples && correct > 0 && correct < len(samples)
}

// measure gives the figures of samples before calibration and, from
// outOfFold (the same samples, each scored by a curve fitted without it),
// after. Field and Own are left to the caller.
func measure(samples, outOfFold []Sample) countersign.FieldReliability {
	r := countersign.FieldReliability{
		Samples:   len(samples),
		ECEBefore: ECE(samples, Bins, nil),
		ECEAfter:  ece(reliability(outOfFold, Bins)),
	}
	if len(samples) > 0 {
		r.Accuracy = float64(countCorrect(samples)) / float64(len(samples))
	}
	return r
}

func countCorrect(samples []Sample) int {
	n := 0
	for _, s := range samples {
		if s.Correct {
			n++
		}
	}
	return n
}

// version hashes the curves. encoding/json writes map keys sorted and
// floats in their shortest exact form, so equal curves hash equally.
func version(c *countersign.Calibration) (string, error) {
	b, err := json.Marshal(struct {
		Fields map[string]countersign.Curve `json:"fields"`
		Pooled countersign.Curve            `json:"pooled"`
	}{c.Fields, c.Pooled})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12], nil
}

// MinOutcomes is how many outcomes a task type needs, with both correct and
// wrong among them, before a calibration may steer routing.
const MinOutcomes = MinFieldSamples

// Enough reports why the outcomes cannot yet support a calibration, or nil.
// With too few, or with no wrong value among them (common early in a review
// period), a fitted curve would map every score to certainty.
func Enough(taskType string, samples map[string][]Sample) error {
	var n, correct int
	for _, s := range samples {
		n += len(s)
		correct += countCorrect(s)
	}
	if n < MinOutcomes || correct == 0 || correct == n {
		return countersign.Errorf(countersign.CodeInvalid,
			"calibrate %s: %d field outcomes (%d kept, %d corrected) are not enough: a calibration needs at least %d, with both kept and corrected values among them",
			taskType, n, correct, n-correct, MinOutcomes)
	}
	return nil
}
