package countersign

import (
	"context"
	"sort"
	"time"
)

// Curve is a monotone (non-decreasing) map from a raw confidence score to the
// observed rate of correct values, fitted by isotonic regression. Points are
// sorted by X; between two points the curve is linear, and above the last it
// is flat. Below the lowest score it has seen, the curve never raises a
// score: it gives the lower of the score and the first point's rate, so a
// value weaker than anything reviewed is not credited with their accuracy.
type Curve struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Apply maps a raw score through the curve. An empty curve is the identity.
func (c Curve) Apply(score float64) float64 {
	n := len(c.X)
	switch {
	case n == 0 || len(c.Y) != n:
		return score
	case score < c.X[0]:
		return min(score, c.Y[0])
	case score == c.X[0]:
		return c.Y[0]
	case score >= c.X[n-1]:
		return c.Y[n-1]
	}
	i := sort.SearchFloat64s(c.X, score) // c.X[i-1] < score <= c.X[i]
	if c.X[i] == score {
		return c.Y[i]
	}
	x0, x1, y0, y1 := c.X[i-1], c.X[i], c.Y[i-1], c.Y[i]
	return y0 + (y1-y0)*(score-x0)/(x1-x0)
}

// Calibration is a fitted, versioned map from raw field scores to observed
// correctness for one task type, learned from human outcomes: a field a
// reviewer approved unchanged was correct, a corrected or removed one was
// wrong. Fields with too few outcomes of their own use the pooled curve.
type Calibration struct {
	TaskType string `json:"task_type"`
	// Version is the hash of the curves.
	Version   string           `json:"version"`
	Fields    map[string]Curve `json:"fields"`
	Pooled    Curve            `json:"pooled"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy string           `json:"created_by"`
	// Report holds the reliability figures of the fit.
	Report CalibrationReport `json:"report"`
}

// Curve returns the curve for a field: its own, or the pooled one.
func (c *Calibration) Curve(field string) Curve {
	if curve, ok := c.Fields[field]; ok {
		return curve
	}
	return c.Pooled
}

// CalibrationReport says how well raw and calibrated scores matched
// observed correctness.
type CalibrationReport struct {
	Documents int `json:"documents"`
	// TaskTypeVersions are the versions whose outcomes the fit used.
	TaskTypeVersions []string           `json:"task_type_versions"`
	Fields           []FieldReliability `json:"fields"`
	Pooled           FieldReliability   `json:"pooled"`
}

// FieldReliability is the expected calibration error (ECE, 10 equal-width
// bins) of one field's scores before calibration and after it. After is
// measured out of sample (5-fold cross-validation), so a curve cannot look
// good by memorizing its own data.
type FieldReliability struct {
	Field     string  `json:"field"`
	Samples   int     `json:"samples"`
	Accuracy  float64 `json:"accuracy"`
	ECEBefore float64 `json:"ece_before"`
	ECEAfter  float64 `json:"ece_after"`
	// Own is set when the field got a curve of its own.
	Own bool `json:"own"`
}

// CalibrationStore keeps calibrations, every version.
type CalibrationStore interface {
	// PutCalibration stores c; storing a known version again is a no-op.
	PutCalibration(ctx context.Context, c *Calibration) error
	// LatestCalibration returns the newest calibration of a task type;
	// ErrNotFound if none was fitted.
	LatestCalibration(ctx context.Context, taskType string) (*Calibration, error)
}
