package calibration

import (
	"cmp"
	"slices"

	"github.com/countersign/countersign"
)

// Isotonic fits the non-decreasing step function of correctness on score
// that is closest to the samples in squared error, by pool-adjacent-violators.
// Samples with equal scores are pooled first, and a pool weighs as many
// samples as it holds. Adjacent blocks of equal value are pooled too: the
// step function is the same and the curve shorter.
//
// Each final block becomes the points (lowest score, value) and (highest
// score, value), one point when the two coincide, so Apply is flat inside a
// block, linear between blocks and flat outside them. No samples give the
// empty curve, which Apply treats as the identity. Scores must be finite.
func Isotonic(samples []Sample) countersign.Curve {
	if len(samples) == 0 {
		return countersign.Curve{}
	}
	var fit []block
	for _, b := range tied(samples) {
		fit = append(fit, b)
		for k := len(fit) - 1; k > 0 && !fit[k-1].below(fit[k]); k-- {
			fit[k-1] = fit[k-1].merge(fit[k])
			fit = fit[:k]
		}
	}

	c := countersign.Curve{X: make([]float64, 0, 2*len(fit)), Y: make([]float64, 0, 2*len(fit))}
	for _, b := range fit {
		v := b.value()
		c.X, c.Y = append(c.X, b.lo), append(c.Y, v)
		if b.hi > b.lo {
			c.X, c.Y = append(c.X, b.hi), append(c.Y, v)
		}
	}
	return c
}

// block is a run of adjacent scores that share one fitted value: the share
// of correct samples among them.
type block struct {
	lo, hi     float64 // lowest and highest score in the block
	correct, n int
}

// tied sorts the samples by score and pools equal scores into one block each.
func tied(samples []Sample) []block {
	sorted := slices.Clone(samples)
	slices.SortFunc(sorted, func(a, b Sample) int { return cmp.Compare(a.Score, b.Score) })
	var blocks []block
	for _, s := range sorted {
		if k := len(blocks) - 1; k < 0 || blocks[k].hi != s.Score {
			blocks = append(blocks, block{lo: s.Score, hi: s.Score})
		}
		b := &blocks[len(blocks)-1]
		b.n++
		if s.Correct {
			b.correct++
		}
	}
	return blocks
}

// below reports whether b's value is strictly below next's. It compares the
// counts crosswise, so rounding never decides whether two blocks merge.
func (b block) below(next block) bool { return b.correct*next.n < next.correct*b.n }

func (b block) merge(next block) block {
	return block{lo: b.lo, hi: next.hi, correct: b.correct + next.correct, n: b.n + next.n}
}

func (b block) value() float64 { return float64(b.correct) / float64(b.n) }
