package calibration

import (
	"cmp"
	"fmt"
	"math"
	"slices"
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

// AUC is the area under the ROC curve of the scores as a ranking of the
// samples: the probability that a correct sample, drawn at random, scores
// above a wrong one, a tie counting half (the Mann–Whitney statistic, with
// tied scores given their mean rank). ok is false when the samples are all
// correct or all wrong, when it is undefined.
func AUC(samples []Sample) (auc float64, ok bool) {
	sorted := slices.SortedFunc(slices.Values(samples), func(a, b Sample) int { return cmp.Compare(a.Score, b.Score) })
	var rankSum, pos float64
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].Score == sorted[i].Score {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1 … j, averaged
		for _, s := range sorted[i:j] {
			if s.Correct {
				rankSum += mid
				pos++
			}
		}
		i = j
	}
	neg := float64(len(samples)) - pos
	if pos == 0 || neg == 0 {
		return 0, false
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg), true
}

// Brier is the mean squared difference between the predicted probabilities
// (the samples' scores) and the outcomes (1 correct, 0 wrong); 0 for no
// samples.
func Brier(samples []Sample) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		y := 0.0
		if s.Correct {
			y = 1
		}
		sum += (s.Score - y) * (s.Score - y)
	}
	return sum / float64(len(samples))
}
