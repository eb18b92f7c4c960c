package quality

// CohenKappa is Cohen's kappa between two reviewers who labelled the same
// items: pairs[i] holds the label reviewer A and reviewer B gave item i. It
// is their agreement corrected for the agreement chance alone would give, 1
// for perfect agreement and 0 for no better than chance; labels are
// arbitrary strings compared exactly. ok is false when there are no pairs or
// when chance agreement is already 1, as when both reviewers gave every item
// the same single label, and kappa is undefined.
func CohenKappa(pairs [][2]string) (kappa float64, ok bool) {
	n := int64(len(pairs))
	if n == 0 {
		return 0, false
	}
	countB := make(map[string]int64)
	var agree int64
	for _, p := range pairs {
		countB[p[1]]++
		if p[0] == p[1] {
			agree++
		}
	}
	// chance = Σ over labels of countA·countB, summed item by item over A's
	// labels: integer sums, so neither the label order nor rounding can
	// change the result.
	var chance int64
	for _, p := range pairs {
		chance += countB[p[0]]
	}
	// kappa = (po - pe) / (1 - pe) with po = agree/n and pe = chance/n²,
	// multiplied through by n² so that the only rounding is the division.
	if chance == n*n {
		return 0, false
	}
	return float64(n*agree-chance) / float64(n*n-chance), true
}

// PercentAgreement is the share of items two reviewers gave the same label,
// pairs[i] holding reviewer A's and reviewer B's label of item i. ok is false
// when there are no pairs.
func PercentAgreement(pairs [][2]string) (share float64, ok bool) {
	if len(pairs) == 0 {
		return 0, false
	}
	agree := 0
	for _, p := range pairs {
		if p[0] == p[1] {
			agree++
		}
	}
	return float64(agree) / float64(len(pairs)), true
}
