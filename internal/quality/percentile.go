package quality

import (
	"math"
	"slices"
	"time"
)

// Percentile is the nearest-rank p-th percentile of durations such as review
// times: the smallest duration that at least p percent of ds do not exceed.
// p is in (0,100]; values outside are clamped, so p <= 0 gives the shortest.
// ds need not be sorted and is not modified. ok is false when ds is empty.
func Percentile(ds []time.Duration, p float64) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	// Nearest rank is ceil(p/100 · n); the slack keeps a rank that is an
	// integer in decimal from rounding up to the next one.
	rank := 1
	if p > 0 {
		rank = int(math.Ceil(min(p, 100)*float64(len(sorted))/100 - edgeSlack))
	}
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1], true
}
