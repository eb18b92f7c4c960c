// Package calibration learns from human outcomes how far a draft can be
// trusted. A field a reviewer kept unchanged was right, a corrected or
// removed one was wrong, and a document was right when every field was; from
// these it fits a confidence model of the signals (see Learn), measures it
// out of sample, and says whether it beats the calibration in use.
package calibration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/countersign/countersign"
)

// Sample is one observed outcome: a score (raw, or a predicted probability)
// and whether a person kept the value.
type Sample struct {
	Score   float64
	Correct bool
}

// The figures of a fit, as countersign.CalibrationReport documents them.
const (
	// Bins is the number of equal-width bins of the ECE.
	Bins = 10
	// Folds is the number of cross-validation folds of the out-of-sample
	// figures and of the choice between a field's own coefficients and the
	// pooled ones.
	Folds = 5
	// MinFieldSamples is the fewest outcomes (that passed the hard checks)
	// a field needs, right and wrong among them, to be offered coefficients
	// of its own.
	MinFieldSamples = 30
	// MinOutcomes is how many field outcomes the training split needs, with
	// both right and wrong among them, before a calibration may be fitted.
	MinOutcomes = MinFieldSamples
)

func countCorrect(samples []Sample) int {
	n := 0
	for _, s := range samples {
		if s.Correct {
			n++
		}
	}
	return n
}

// modelVersion is the first 12 hex digits of the SHA-256 of what the
// calibration computes and which documents it trained on: the model, the
// seed, the holdout share and the time of the fit. encoding/json writes map
// keys sorted and floats in their shortest exact form, so equal
// calibrations hash equally.
func modelVersion(c *countersign.Calibration) (string, error) {
	b, err := json.Marshal(struct {
		Model          *countersign.ConfidenceModel `json:"model"`
		Seed           int64                        `json:"seed"`
		Holdout        float64                      `json:"holdout"`
		TrainedThrough time.Time                    `json:"trained_through"`
	}{c.Model, c.Seed, c.Holdout, c.TrainedThrough})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12], nil
}
