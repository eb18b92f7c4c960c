package calibration

import (
	"maps"
	"slices"

	"github.com/countersign/countersign"
)

// MinWordRows is how many kept training values a word must stand near for
// a calibration to keep its count (see countersign.WordCounts).
const MinWordRows = 2

// wordCounts counts, per field, the words around the kept values among rows
// with words (hasWords). A field without such a value gets none.
func wordCounts(rows []row) map[string]countersign.WordCounts {
	out := map[string]countersign.WordCounts{}
	for _, r := range rows {
		if !hasWords(r) || !r.correct {
			continue
		}
		wc, ok := out[r.field]
		if !ok {
			wc = countersign.WordCounts{Counts: map[string]int{}}
		}
		wc.Kept++
		seen := map[string]bool{}
		for _, w := range r.words {
			if !seen[w] {
				seen[w] = true
				wc.Counts[w]++
			}
		}
		out[r.field] = wc
	}
	for _, wc := range out {
		maps.DeleteFunc(wc.Counts, func(_ string, c int) bool { return c < MinWordRows })
	}
	return out
}

// ownSignals gives the learner copies of its documents' field outcomes and
// their signals, without any words signal an earlier calibration recorded:
// learnWords sets its own in them, and the outcomes given to Learn stay as
// they are.
func (l *learner) ownSignals() {
	for i := range l.docs {
		fields := slices.Clone(l.docs[i].Fields)
		for j := range fields {
			fields[j].Signals = maps.Clone(fields[j].Signals)
			delete(fields[j].Signals, countersign.SignalWords)
		}
		l.docs[i].Fields = fields
	}
}

// learnWords gives every row, and its document's field outcome (they share
// the signals map, see ownSignals), the words signal predicted out of fold:
// from the words counted on the other folds' rows, never its own. It
// returns the counts over all rows, for the model.
func (l *learner) learnWords() map[string]countersign.WordCounts {
	all := wordCounts(l.rows)
	if len(all) == 0 {
		return nil
	}
	for k := range Folds {
		var train []row
		for _, r := range l.rows {
			if l.fold[r.doc] != k {
				train = append(train, r)
			}
		}
		counts := wordCounts(train)
		for _, r := range l.rows {
			if l.fold[r.doc] != k {
				continue
			}
			if !hasWords(r) {
				continue
			}
			if _, learned := all[r.field]; !learned {
				continue
			}
			// The maps are shared between rows and l.docs: both see it.
			r.signals[countersign.SignalWords], _ = counts[r.field].Signal(r.words)
		}
	}
	return all
}

// hasWords reports whether a row's value had words read around it. A value
// without them (nothing around it, or scored before the words were kept:
// a stored score cannot tell the two apart) gets no words signal, and its
// absence is what the model learns from, rather than a 0 that would rank
// it with the most unusual words.
func hasWords(r row) bool {
	_, read := r.signals[countersign.SignalContext]
	return read && len(r.words) > 0
}

// wordsWithout returns the training rows of cross-validation's fold k with
// their words signal computed without fold k too: a row of fold j gets it
// from the words counted on the folds other than j and k, so that nothing
// of fold k's words reaches the model that predicts fold k. The rows with
// a words signal get copies of their signals; the rest are as given.
func (l *learner) wordsWithout(train []row, k int) []row {
	if len(l.words) == 0 {
		return train
	}
	counts := map[int]map[string]countersign.WordCounts{}
	out := make([]row, len(train))
	for i, r := range train {
		out[i] = r
		if _, has := r.signals[countersign.SignalWords]; !has {
			continue
		}
		j := l.fold[r.doc]
		if counts[j] == nil {
			var rest []row
			for _, o := range l.rows {
				if f := l.fold[o.doc]; f != j && f != k {
					rest = append(rest, o)
				}
			}
			counts[j] = wordCounts(rest)
		}
		out[i].signals = maps.Clone(r.signals)
		out[i].signals[countersign.SignalWords], _ = counts[j][r.field].Signal(r.words)
	}
	return out
}
