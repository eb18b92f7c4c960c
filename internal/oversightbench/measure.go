package oversightbench

import (
	"math"
	"sort"
)

// PerfectShare is the review share of a reviewer who knows which drafts
// are wrong: the fewest of n documents, wrong of which have a wrong draft,
// that must go to a person (wrong ones only) for the error rate among the
// documents accepted without one to be within budget.
func PerfectShare(n, wrong int, budget float64) float64 {
	if n == 0 {
		return 0
	}
	// With r wrong drafts reviewed: (wrong-r)/(n-r) <= budget.
	need := (float64(wrong) - budget*float64(n)) / (1 - budget)
	r := max(0, int(math.Ceil(need-1e-9)))
	return float64(min(r, wrong)) / float64(n)
}

// Scored is a document as the engine scored it, and whether its draft
// was wrong.
type Scored struct {
	Confidence float64 `json:"confidence"`
	Wrong      bool    `json:"wrong"`
}

// Hindsight is the best threshold on the engine's confidence chosen
// knowing every outcome: the one that sends the fewest documents to a
// person while the error rate among the documents at or above it stays
// within budget. Threshold is above every confidence (1.01) when no
// threshold keeps the budget, so every document goes to a person.
type Hindsight struct {
	Threshold   float64 `json:"threshold"`
	ReviewShare float64 `json:"review_share"`
	// ErrorRate is the error rate among the documents it would accept.
	ErrorRate float64 `json:"error_rate"`
}

// BestThreshold finds the hindsight threshold over docs.
func BestThreshold(docs []Scored, budget float64) Hindsight {
	best := Hindsight{Threshold: 1.01, ReviewShare: 1}
	if len(docs) == 0 {
		return best
	}
	sorted := append([]Scored(nil), docs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Confidence > sorted[j].Confidence })
	accepted, wrong := 0, 0
	for i := 0; i < len(sorted); {
		// Documents of equal confidence are accepted together.
		j := i
		for j < len(sorted) && sorted[j].Confidence == sorted[i].Confidence {
			if sorted[j].Wrong {
				wrong++
			}
			j++
		}
		accepted = j
		if rate := float64(wrong) / float64(accepted); rate <= budget {
			best = Hindsight{Threshold: sorted[i].Confidence, ReviewShare: float64(len(sorted)-accepted) / float64(len(sorted)), ErrorRate: rate}
		}
		i = j
	}
	return best
}
