package quality

import (
	"fmt"
	"math"
)

// Tally counts the audits of auto-accepted documents and how many of them
// escaped, that is how many the auditor corrected.
type Tally struct {
	Audits  int `json:"audits"`
	Escaped int `json:"escaped"`
}

// Buckets is the number of confidence buckets of a Histogram: thresholds are
// chosen in steps of 1/Buckets.
const Buckets = 100

// edgeSlack absorbs the rounding of a product that is an integer in decimal
// arithmetic, so that a confidence or threshold written as a multiple of
// 0.01 lands on its own bucket edge (0.29·100 is 28.999999999999996 in
// float64), and a percentile whose rank is an integer keeps it.
const edgeSlack = 1e-9

// Histogram tallies the audits of a task type by the confidence of the
// audited document, so the supervisor can ask how many escaped above any
// threshold. Bucket i holds confidences in [i/100, (i+1)/100), each edge
// taken 1e-11 low so that 0.29 falls in bucket 29 despite rounding; a
// confidence of 1 falls in the last bucket, and values outside [0,1] are
// clamped. It is
// a fixed-size array so that it serializes compactly and iterates in order.
type Histogram [Buckets]Tally

// Add records the audit of a document auto-accepted at confidence; escaped
// says whether the auditor corrected it. A NaN confidence counts in the
// first bucket, where it weighs against every threshold.
func (h *Histogram) Add(confidence float64, escaped bool) {
	i := bucket(confidence)
	h[i].Audits++
	if escaped {
		h[i].Escaped++
	}
}

// Total is the tally of every audit in the histogram.
func (h *Histogram) Total() Tally {
	return h.from(0)
}

// Above is the tally of the audits that a threshold t would still have
// auto-accepted: those in the buckets whose lower edge is at least t, that
// is bucket i when i >= ceil(t·100) (up to rounding). t is clamped to
// [0,1]; Above(1) is empty because no bucket starts at 1.
func (h *Histogram) Above(t float64) Tally {
	start := Buckets
	switch {
	case !(t > 0): // also NaN
		start = 0
	case t < 1:
		start = int(math.Ceil(t*Buckets - edgeSlack))
	}
	return h.from(start)
}

// from sums the buckets from index start on.
func (h *Histogram) from(start int) Tally {
	var t Tally
	for i := start; i < Buckets; i++ {
		t.Audits += h[i].Audits
		t.Escaped += h[i].Escaped
	}
	return t
}

// bucket is the index of the bucket holding confidence c.
func bucket(c float64) int {
	if !(c > 0) { // also NaN
		return 0
	}
	if c >= 1 {
		return Buckets - 1
	}
	return min(int(math.Floor(c*Buckets+edgeSlack)), Buckets-1)
}

// Threshold is the auto-accept threshold the supervisor raises a task type
// to when its escaped-error bound breaches the budget: the smallest multiple
// of 0.01 strictly above current such that the audited documents at or above
// it number at least minAudits and their upper bound (Bounds) is within budget. ok is
// false when no threshold qualifies; the caller then switches the task type
// to reviewing every document. A nil histogram has no audits. It is an error
// when budget or level is outside (0,1), method is unknown, minAudits is
// negative or current is NaN.
func Threshold(h *Histogram, method string, budget, level float64, minAudits int, current float64) (threshold float64, ok bool, err error) {
	if err := checkParams(method, budget, level); err != nil {
		return 0, false, err
	}
	if minAudits < 0 {
		return 0, false, fmt.Errorf("quality: minimum audits %d is negative", minAudits)
	}
	if math.IsNaN(current) {
		return 0, false, fmt.Errorf("quality: current threshold is NaN")
	}
	if h == nil {
		return 0, false, nil
	}
	first := 0
	if current >= 0 {
		first = int(math.Floor(min(current, 1)*Buckets+edgeSlack)) + 1
	}
	for i := first; i < Buckets; i++ {
		t := h.from(i)
		if t.Audits < minAudits {
			continue
		}
		_, b, err := Bounds(method, t.Escaped, t.Audits, level, budget)
		if err != nil {
			return 0, false, err
		}
		if b <= budget {
			return float64(i) / Buckets, true, nil
		}
	}
	return 0, false, nil
}
