package countersign

import (
	"context"
	"encoding/binary"
	"math"
	"sort"
	"strconv"
	"strings"
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

// Calibration is a fitted, versioned map from a draft's signals to observed
// correctness for one task type, learned from human outcomes: a field a
// reviewer approved unchanged was correct, a corrected or removed one was
// wrong.
//
// A calibration with a Model is a learned confidence model: field
// probabilities from the signals and a document probability from them. One
// without (fitted before models existed) is a set of monotone curves from
// raw field scores, per field with a pooled one for the rest; it still loads
// and applies.
type Calibration struct {
	TaskType string `json:"task_type"`
	// Version is the hash of what the calibration computes (the curves, or
	// the model with its seed, holdout share and training time).
	Version   string           `json:"version"`
	Fields    map[string]Curve `json:"fields"`
	Pooled    Curve            `json:"pooled"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy string           `json:"created_by"`
	// Report holds the reliability figures of the fit.
	Report CalibrationReport `json:"report"`

	// Model is the learned confidence model; nil in a curve calibration.
	Model *ConfidenceModel `json:"model,omitempty"`
	// Seed drew the cross-validation folds and the holdout split.
	Seed int64 `json:"seed,omitempty"`
	// Holdout is the share of reviewed documents kept out of training, for
	// certification; which ones is decided by Seed (see TrainedOn).
	Holdout float64 `json:"holdout,omitempty"`
	// TrainedThrough is when the calibration was fitted: documents created
	// after it were not trained on.
	TrainedThrough time.Time `json:"trained_through,omitzero"`
	// Active is set when routing uses the calibration: when it was stored,
	// it beat the calibration then active out of sample.
	Active bool `json:"active"`
	// Inactive says why a calibration was stored but not made active.
	Inactive string `json:"inactive,omitempty"`
}

// Curve returns the curve for a field: its own, or the pooled one.
func (c *Calibration) Curve(field string) Curve {
	if curve, ok := c.Fields[field]; ok {
		return curve
	}
	return c.Pooled
}

// TrainedOn reports whether a reviewed document created at createdAt could
// have been among those the calibration was fitted on: it is in the
// training split of the calibration's seed and holdout share, and was
// created no later than TrainedThrough. Documents for which it is false are
// out of sample for the calibration, fit to measure it on. A calibration
// without TrainedThrough (fitted before it was recorded) trained on every
// document created before CreatedAt.
func (c *Calibration) TrainedOn(documentID string, createdAt time.Time) bool {
	through := c.TrainedThrough
	if through.IsZero() {
		through = c.CreatedAt
	}
	if createdAt.After(through) {
		return false
	}
	return InTrainingSplit(c.Seed, c.Holdout, documentID)
}

// InTrainingSplit reports whether a document falls in the training split
// drawn by seed with the given holdout share: a hash of the seed and the
// document ID, read as a number u in [0, 1), is below 1 - holdout. The
// split depends on nothing else, so it is the same whenever it is drawn,
// in any order, and a document keeps its side as others arrive.
func InTrainingSplit(seed int64, holdout float64, documentID string) bool {
	if holdout <= 0 {
		return true
	}
	key := binary.BigEndian.AppendUint64(nil, uint64(seed))
	return Draw(append(key, documentID...)) < 1-holdout
}

// ConfidenceModel is a learned confidence model. A field's probability of
// being right as drafted is a logistic regression on features of its
// signals, with the field's own coefficients when it earned them and the
// pooled ones otherwise; a document's is the Platt map of the logit of the
// product of its fields' probabilities. Probabilities are kept within
// [Floor, 1-Floor] (see Bound): finite data never supports certainty.
type ConfidenceModel struct {
	// Features name the inputs, in the order of the coefficients after the
	// intercept; see FeatureValues.
	Features []string `json:"features"`
	// Fields are the coefficients (intercept first) of the fields that
	// have their own, fitted with a penalty toward Pooled.
	Fields map[string][]float64 `json:"fields,omitempty"`
	// Pooled are the coefficients fitted on every field's outcomes, for
	// the fields without their own.
	Pooled []float64 `json:"pooled"`
	// Document maps the logit of the product of the field probabilities
	// to the probability that every field of the document is right.
	Document Platt `json:"document"`
	// Floor is the lowest probability the model gives (to values that
	// failed a hard check and missing required values), and 1-Floor bounds
	// the highest; it shrinks with the number of documents it learned from.
	Floor float64 `json:"floor"`
	// Checks are, per check signal (CheckSignals) the training values had,
	// the probability that a value failing the check is right: the share
	// of the training values that failed it that people kept, smoothed as
	// (kept + ½)/(failed + 1). A value that fails a check gets the least of
	// its failed checks' probabilities, whatever its other signals say (see
	// FieldProbability); the regression learns from the values that failed
	// none. Empty in calibrations fitted before checks were learned, which
	// give such values the regression's probability.
	Checks map[string]float64 `json:"checks,omitempty"`
	// Words are, per field, how often each word stood around the values
	// people kept in the training documents (FieldScore.Words); a field's
	// SignalWords is computed from them (WordsSignal). Empty when the
	// calibration learned none.
	Words map[string]WordCounts `json:"words,omitempty"`
}

// WordCounts are the words seen around the kept values of a field: Kept
// values had their context read, and Counts[w] of them had word w around
// them (words seen around fewer than two are left out).
type WordCounts struct {
	Kept   int            `json:"kept"`
	Counts map[string]int `json:"counts"`
}

// WordsSignal is the words signal of a field whose value has these words
// around it, and the one of them least usual around kept values. ok is
// false when the model learned no words for the field.
func (m *ConfidenceModel) WordsSignal(field string, words []string) (value float64, rarest string, ok bool) {
	wc, ok := m.Words[field]
	if !ok {
		return 0, "", false
	}
	value, rarest = wc.Signal(words)
	return value, rarest, true
}

// Signal is the geometric mean, over the distinct words, of the share of
// kept values that had each word around them, smoothed ((count+½)/(kept+1),
// so neither 0 nor 1); 0 with no words. Values whose place is worded as
// the field's kept values were get near the usual share of the field's
// label words; a value taken from a place worded otherwise (a policy's
// start date for the date of loss) gets near 0. rarest is the word with
// the lowest count.
func (wc WordCounts) Signal(words []string) (value float64, rarest string) {
	sum, n, low := 0.0, 0, math.MaxInt
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		c := wc.Counts[w]
		sum += math.Log((float64(c) + 0.5) / (float64(wc.Kept) + 1))
		n++
		if c < low {
			low, rarest = c, w
		}
	}
	if n == 0 {
		return 0, ""
	}
	return math.Round(math.Exp(sum/float64(n))*1e4) / 1e4, rarest
}

// Feature name prefixes: a feature is a signal's value (0 when absent), the
// log-odds of its value, its log-odds capped at a knot, or an indicator of
// its absence.
//
// A capped feature, named FeatureCap + knot + ":" + signal
// ("cap:6.12:token_prob"), is min(logit(v), knot), and 0 when the signal is
// absent. A few of them at increasing knots, in place of the log-odds, make
// the log-odds enter the model as a piecewise-linear curve that is flat
// above the highest knot. A model's token probability tells its unsure
// answers from its right ones well, but above some height its confident
// errors are as sure as its right answers: a straight line in the
// log-odds would rate a value at 0.9999 twenty times as safe as one at
// 0.998, on no evidence, and put confident errors at the top of the
// ranking. Flat there, the ranking among sure values is left to the signals
// that read the document.
const (
	FeatureLogit  = "logit:"
	FeatureCap    = "cap:"
	FeatureAbsent = "absent:"
)

// CapFeature names the log-odds of signal capped at knot.
func CapFeature(knot float64, signal string) string {
	return FeatureCap + strconv.FormatFloat(knot, 'f', -1, 64) + ":" + signal
}

// FeatureSignal is the signal a feature reads.
func FeatureSignal(name string) string {
	if _, signal, ok := ParseCap(name); ok {
		return signal
	}
	for _, prefix := range []string{FeatureLogit, FeatureAbsent} {
		if s, ok := strings.CutPrefix(name, prefix); ok {
			return s
		}
	}
	return name
}

// ParseCap reads a capped feature's knot and signal; ok is false for a
// name that is not one.
func ParseCap(name string) (knot float64, signal string, ok bool) {
	rest, found := strings.CutPrefix(name, FeatureCap)
	if !found {
		return 0, "", false
	}
	k, signal, found := strings.Cut(rest, ":")
	if !found || signal == "" {
		return 0, "", false
	}
	knot, err := strconv.ParseFloat(k, 64)
	if err != nil || math.IsNaN(knot) || math.IsInf(knot, 0) {
		return 0, "", false
	}
	return knot, signal, true
}

// LogitClamp bounds a signal's value before its log-odds are taken, so a
// signal of exactly 0 or 1 gives a finite feature (about ±9.2).
const LogitClamp = 1e-4

// FeatureValues computes the named features from a field's signals. A
// signal the field lacks has value and log-odds 0 and absence 1, so a model
// learns what its absence says; a name of no known form is 0.
func FeatureValues(features []string, signals map[string]float64) []float64 {
	x := make([]float64, len(features))
	for i, name := range features {
		switch {
		case strings.HasPrefix(name, FeatureAbsent):
			if _, ok := signals[strings.TrimPrefix(name, FeatureAbsent)]; !ok {
				x[i] = 1
			}
		case strings.HasPrefix(name, FeatureLogit):
			if v, ok := signals[strings.TrimPrefix(name, FeatureLogit)]; ok {
				x[i] = Logit(min(max(v, LogitClamp), 1-LogitClamp))
			}
		case strings.HasPrefix(name, FeatureCap):
			knot, signal, ok := ParseCap(name)
			if v, present := signals[signal]; ok && present {
				x[i] = min(Logit(min(max(v, LogitClamp), 1-LogitClamp)), knot)
			}
		default:
			x[i] = signals[name]
		}
	}
	return x
}

// Logit is the log-odds of p.
func Logit(p float64) float64 { return math.Log(p / (1 - p)) }

// Sigmoid is the inverse of Logit, computed without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Coefficients returns the coefficients a field's probability is computed
// with: its own, or the pooled ones.
func (m *ConfidenceModel) Coefficients(field string) []float64 {
	if beta, ok := m.Fields[field]; ok {
		return beta
	}
	return m.Pooled
}

// CheckSignals compare a drafted value with another reading of the same
// document: its own evidence quote (quote_match: the quote says another
// value) and the rules extractor (rules: it found another one). A value
// that fails one (the signal is 0) disagrees with the document as read
// another way, however sure the model was of it: its model-side signals
// (token probability, agreement, alternatives) say nothing about which
// reading is right, and a model's confident misreadings look to them like
// its right answers. So a learned model does not weigh such a value by
// the regression, where the sure model's log-odds could outvote the
// disagreement: it gives it the share of such values people kept
// (ConfidenceModel.Checks).
var CheckSignals = []string{SignalQuoteMatch, SignalRules}

// FailedChecks lists the check signals (CheckSignals) a drafted value
// fails: those recorded as 0. An omission fails none: its signals speak
// of the field's absence, not of a value.
func FailedChecks(signals map[string]float64) []string {
	if _, omission := signals[SignalOmission]; omission {
		return nil
	}
	var out []string
	for _, name := range CheckSignals {
		if v, ok := signals[name]; ok && v == 0 {
			out = append(out, name)
		}
	}
	return out
}

// CheckProbability is the probability a model gives a value that fails
// one or more checks it learned (Checks): the least of theirs. ok is false
// when the value fails none of them.
func (m *ConfidenceModel) CheckProbability(signals map[string]float64) (p float64, ok bool) {
	for _, name := range FailedChecks(signals) {
		if q, learned := m.Checks[name]; learned && (!ok || q < p) {
			p, ok = q, true
		}
	}
	return p, ok
}

// FieldProbability is the probability that a field with these signals is
// right as drafted, bounded within (Floor, 1-Floor): that of the checks it
// fails (CheckProbability), or else the regression's.
func (m *ConfidenceModel) FieldProbability(field string, signals map[string]float64) float64 {
	if p, ok := m.CheckProbability(signals); ok {
		return m.Bound(p)
	}
	beta := m.Coefficients(field)
	if len(beta) == 0 {
		return m.Bound(0.5)
	}
	z := beta[0]
	for i, x := range FeatureValues(m.Features, signals) {
		if i+1 < len(beta) {
			z += beta[i+1] * x
		}
	}
	return m.Bound(Sigmoid(z))
}

// DocumentProbability is the probability that every field of a document is
// right, from its fields' probabilities (a required field without a value
// counts at Floor), bounded within (Floor, 1-Floor).
func (m *ConfidenceModel) DocumentProbability(fields []float64) float64 {
	return m.Bound(m.Document.Apply(Logit(m.Product(fields))))
}

// Product is the product of the field probabilities, each held within
// [Floor, 1-Floor], and held in turn within (0, 1) so that its log-odds
// are finite.
func (m *ConfidenceModel) Product(fields []float64) float64 {
	prod := 1.0
	for _, p := range fields {
		prod *= min(max(p, m.Floor), 1-m.Floor)
	}
	return min(max(prod, math.SmallestNonzeroFloat64), math.Nextafter(1, 0))
}

// Bound maps a probability p in [0, 1] into [Floor, 1-Floor] by shrinking
// it toward ½: Floor + (1−2·Floor)·p. Unlike clamping, it keeps apart
// probabilities the model tells apart (two documents it rates 0.999 and
// 0.9999 stay in that order), while neither 0 nor 1 is reached.
func (m *ConfidenceModel) Bound(p float64) float64 { return m.Floor + (1-2*m.Floor)*p }

// Platt is a logistic map of a score x to a probability, 1/(1+exp(-(A·x+B))).
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// Apply maps x to a probability.
func (p Platt) Apply(x float64) float64 { return Sigmoid(p.A*x + p.B) }

// CalibrationReport says how well raw and calibrated confidence matched
// observed correctness. Every figure after calibration is measured out of
// sample (cross-validation over documents), so a model cannot look good by
// memorizing its own data.
type CalibrationReport struct {
	// Documents are those the fit learned from: of a model, the reviewed
	// documents of the training split.
	Documents int `json:"documents"`
	// HeldOut are the reviewed documents kept out of training (the holdout
	// split), for certification.
	HeldOut int `json:"held_out,omitempty"`
	// TaskTypeVersions are the versions whose outcomes the fit used.
	TaskTypeVersions []string           `json:"task_type_versions"`
	Fields           []FieldReliability `json:"fields"`
	// Pooled is the "(all fields)" row: every field's outcomes, each
	// predicted by the coefficients (or curve) that field uses.
	Pooled FieldReliability `json:"pooled"`
	// Signals is each signal's discrimination at field level.
	Signals []SignalDiscrimination `json:"signals,omitempty"`
	// Document is the reliability of the document confidence.
	Document *DocumentReliability `json:"document,omitempty"`
}

// FieldReliability is the expected calibration error (ECE, 10 equal-width
// bins) of one field's scores before calibration (the raw scores) and after
// it, out of sample.
type FieldReliability struct {
	Field     string  `json:"field"`
	Samples   int     `json:"samples"`
	Accuracy  float64 `json:"accuracy"`
	ECEBefore float64 `json:"ece_before"`
	ECEAfter  float64 `json:"ece_after"`
	// Brier is the mean squared error of the probabilities after
	// calibration; AUC their discrimination (absent without both outcomes).
	Brier float64  `json:"brier,omitempty"`
	AUC   *float64 `json:"auc,omitempty"`
	// Own is set when the field got coefficients (or a curve) of its own.
	Own bool `json:"own"`
	// Pooled says why a field uses the pooled coefficients.
	Pooled string `json:"pooled,omitempty"`
	// Omitted marks the row of the field's empty values, scored as
	// omissions (right when the person left the field empty too), apart
	// from the row of its drafted values.
	Omitted bool `json:"omitted,omitempty"`
}

// SignalDiscrimination is how well one signal, alone, told right field
// values from wrong ones: the area under the ROC curve of its value (ties
// count half), over the field outcomes that have the signal.
type SignalDiscrimination struct {
	Signal string `json:"signal"`
	// Present counts the field outcomes with the signal.
	Present int `json:"present"`
	// AUC is absent when the outcomes with the signal are all right or all
	// wrong.
	AUC *float64 `json:"auc,omitempty"`
}

// DocumentReliability measures the document confidence against whether a
// person kept every field of the document as drafted. Before is the
// uncalibrated confidence (the weakest field's raw score); After the
// calibration's, out of sample: field models fitted without each fold, and
// for ECE and Brier the document map too; AUC after ranks by the
// calibration's document map of those out-of-fold field probabilities.
// The activation rule compares this calibration's Brier score with a
// baseline's, on the Compared documents: the training documents the
// active calibration did not train on (both out of sample there), or all
// of them when fewer than 30 are (then in sample for the active one, which
// can only favour keeping it) or none is active (the baseline is then the
// uncalibrated confidence).
type DocumentReliability struct {
	Documents   int     `json:"documents"`
	Accuracy    float64 `json:"accuracy"`
	ECEBefore   float64 `json:"ece_before"`
	ECEAfter    float64 `json:"ece_after"`
	BrierBefore float64 `json:"brier_before"`
	BrierAfter  float64 `json:"brier_after"`
	AUCBefore   float64 `json:"auc_before"`
	AUCAfter    float64 `json:"auc_after"`
	// Baseline is the version of the calibration compared with; empty for
	// the uncalibrated confidence.
	Baseline string `json:"baseline,omitempty"`
	// Compared counts the documents compared on; ComparedBrier is this
	// calibration's Brier score on them, BaselineBrier the baseline's.
	Compared      int     `json:"compared"`
	ComparedBrier float64 `json:"compared_brier"`
	BaselineBrier float64 `json:"baseline_brier"`
}

// CalibrationStore keeps calibrations, every version.
type CalibrationStore interface {
	// PutCalibration stores c; storing a known version again is a no-op.
	PutCalibration(ctx context.Context, c *Calibration) error
	// LatestCalibration returns the newest calibration of a task type,
	// active or not; ErrNotFound if none was fitted.
	LatestCalibration(ctx context.Context, taskType string) (*Calibration, error)
	// ActiveCalibration returns the newest calibration of a task type that
	// was stored active, the one routing uses; ErrNotFound if none was.
	ActiveCalibration(ctx context.Context, taskType string) (*Calibration, error)
}
