package calibration

import (
	"fmt"
	"math"
)

// Bin is one row of a reliability table: the samples whose predicted
// probability fell in [Lo, Hi), or in [Lo, Hi] for the last bin so that a
// prediction of 1 counts.
type Bin struct {
	Lo, Hi float64
	Count  int
	// Predicted is the mean predicted probability of the bin's samples and
	// Accuracy the share of them that were correct; both are 0 in an empty bin.
	Predicted float64
	Accuracy  float64
}

// Reliability sorts the samples into bins equal-width bins over [0, 1] by
// predicted probability, for printing a reliability table. predict maps a
// raw score to the predicted probability; nil means the raw scores
// themselves. Predictions below 0 or above 1 count in the first or last bin.
// Every bin is returned, empty ones too. It panics if bins < 1.
func Reliability(samples []Sample, bins int, predict func(float64) float64) []Bin {
	return reliability(predicted(samples, predict), bins)
}

// ECE is the expected calibration error of predict on the samples: over the
// non-empty bins of Reliability, the mean of |predicted - accuracy| weighted
// by the bin's share of the samples. It is 0 for no samples.
func ECE(samples []Sample, bins int, predict func(float64) float64) float64 {
	return ece(Reliability(samples, bins, predict))
}

// CrossValidatedECE is the ECE of the isotonic fit measured out of sample,
// because in sample it is 0 by construction: each block's value is its own
// accuracy. Sample i goes to fold i % folds, in the order given; each fold
// is predicted by a curve fitted on the other folds, and the ECE is taken
// over all these predictions at once.
//
// With fewer samples than folds every sample is a fold of its own, which is
// leave-one-out. A single sample has nothing to train on and is predicted by
// the empty curve, that is by its raw score, as it would be with no
// calibration. It panics if folds < 2 or bins < 1.
func CrossValidatedECE(samples []Sample, folds, bins int) float64 {
	return ece(reliability(outOfFold(samples, folds), bins))
}

// outOfFold returns the samples with each score replaced by the prediction
// of the isotonic curve fitted on the other folds.
func outOfFold(samples []Sample, folds int) []Sample {
	if folds < 2 {
		panic(fmt.Sprintf("calibration: cross-validation needs 2 folds or more, not %d", folds))
	}
	out := make([]Sample, len(samples))
	for f := 0; f < folds && f < len(samples); f++ {
		train := make([]Sample, 0, len(samples))
		for i, s := range samples {
			if i%folds != f {
				train = append(train, s)
			}
		}
		curve := Isotonic(train)
		for i := f; i < len(samples); i += folds {
			out[i] = Sample{Score: curve.Apply(samples[i].Score), Correct: samples[i].Correct}
		}
	}
	return out
}

// predicted returns the samples with each score replaced by its prediction.
func predicted(samples []Sample, predict func(float64) float64) []Sample {
	if predict == nil {
		return samples
	}
	out := make([]Sample, len(samples))
	for i, s := range samples {
		out[i] = Sample{Score: predict(s.Score), Correct: s.Correct}
	}
	return out
}

// reliability bins predictions, samples whose Score is already the
// predicted probability.
func reliability(predictions []Sample, bins int) []Bin {
	if bins < 1 {
		panic(fmt.Sprintf("calibration: %d bins", bins))
	}
	table := make([]Bin, bins)
	for i := range table {
		table[i].Lo, table[i].Hi = edge(i, bins), edge(i+1, bins)
	}
	correct := make([]int, bins)
	for _, p := range predictions {
		i := binOf(p.Score, bins)
		table[i].Count++
		table[i].Predicted += p.Score
		if p.Correct {
			correct[i]++
		}
	}
	for i := range table {
		if n := table[i].Count; n > 0 {
			table[i].Predicted /= float64(n)
			table[i].Accuracy = float64(correct[i]) / float64(n)
		}
	}
	return table
}

func ece(table []Bin) float64 {
	n := 0
	for _, b := range table {
		n += b.Count
	}
	var e float64
	for _, b := range table {
		if b.Count > 0 {
			e += float64(b.Count) / float64(n) * math.Abs(b.Predicted-b.Accuracy)
		}
	}
	return e
}

func edge(i, bins int) float64 { return float64(i) / float64(bins) }

// binOf returns the bin of probability p. The product p*bins can round
// across an edge (0.8999999999999999*10 is 9), so the guess is moved until p
// lies between the edges the table reports.
func binOf(p float64, bins int) int {
	if !(p > 0) {
		return 0
	}
	if p >= 1 {
		return bins - 1
	}
	i := min(int(p*float64(bins)), bins-1)
	for i > 0 && p < edge(i, bins) {
		i--
	}
	for i+1 < bins && p >= edge(i+1, bins) {
		i++
	}
	return i
}
