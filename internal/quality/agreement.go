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

// FleissKappa is Fleiss' kappa over items that the same number of people
// labelled: units[i] holds the labels item i got, one per person. It is the
// agreement among all pairs of people on an item, averaged over items and
// corrected for chance from the labels' overall shares; 1 for perfect
// agreement, 0 for no better than chance. ok is false with no items, with
// fewer than two labels on an item, with items labelled by different
// numbers of people (Krippendorff's alpha takes those), or when chance
// agreement is 1 (every label the same).
func FleissKappa(units [][]string) (kappa float64, ok bool) {
	if len(units) == 0 {
		return 0, false
	}
	m := len(units[0])
	if m < 2 {
		return 0, false
	}
	shares := map[string]float64{}
	var agreement float64
	for _, u := range units {
		if len(u) != m {
			return 0, false
		}
		counts := map[string]int{}
		for _, label := range u {
			counts[label]++
			shares[label]++
		}
		var same int
		for _, c := range counts {
			same += c * (c - 1)
		}
		agreement += float64(same) / float64(m*(m-1))
	}
	n := float64(len(units))
	agreement /= n
	var chance float64
	for _, s := range shares {
		p := s / (n * float64(m))
		chance += p * p
	}
	if chance >= 1 {
		return 0, false
	}
	return (agreement - chance) / (1 - chance), true
}

// KrippendorffAlpha is Krippendorff's alpha for nominal labels: units[i]
// holds the labels item i got, one per person who labelled it, any number
// of people per item (an item with one label has no pair and counts for
// nothing). alpha = 1 - observed/expected disagreement, from the matrix of
// coincidences within items; 1 for perfect agreement, 0 for chance. ok is
// false when no item has two labels or when every label is the same (no
// disagreement is expected).
func KrippendorffAlpha(units [][]string) (alpha float64, ok bool) {
	// coincidences[c][k]: pairs of labels c, k within an item, each pair of
	// an item with m labels weighing 1/(m-1).
	coincidences := map[string]map[string]float64{}
	for _, u := range units {
		m := len(u)
		if m < 2 {
			continue
		}
		for i, c := range u {
			for j, k := range u {
				if i == j {
					continue
				}
				if coincidences[c] == nil {
					coincidences[c] = map[string]float64{}
				}
				coincidences[c][k] += 1 / float64(m-1)
			}
		}
	}
	totals := map[string]float64{}
	var n, observed float64
	for c, row := range coincidences {
		for k, o := range row {
			totals[c] += o
			n += o
			if c != k {
				observed += o
			}
		}
	}
	if n == 0 {
		return 0, false
	}
	var expected float64
	for c, nc := range totals {
		for k, nk := range totals {
			if c != k {
				expected += nc * nk
			}
		}
	}
	if expected == 0 {
		return 0, false
	}
	return 1 - (n-1)*observed/expected, true
}
