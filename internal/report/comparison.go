package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
)

// ComparisonReport is how far rankings of a comparison task type agree:
// between two people who ranked the same item, and between the judge's
// draft and the ranking a person settled on, with the judge's rubric
// scores against the person's, over all time and week by week.
type ComparisonReport struct {
	// People compares the rankings the first two people who decided an
	// item settled on (each person's first decision).
	People RankAgreement `json:"people"`
	// Concordance is how far three or more people who ranked the same
	// item agree (each person's first decision), by Kendall's W.
	Concordance RankConcordance `json:"concordance"`
	// Judge compares the judge's ranking with the final one, on items a
	// person approved, corrected or audited.
	Judge RankAgreement `json:"judge"`
	// Criteria compares the judge's scores with the final ones on the
	// same items, criterion by criterion.
	Criteria []CriterionAgreement `json:"criteria"`
	// Weeks are Judge and Criteria by the ISO week of the final decision,
	// oldest first.
	Weeks []JudgeWeek `json:"weeks"`
}

// RankAgreement is the agreement of two rankings of the same items,
// averaged over the items. A candidate a ranking leaves out (the others,
// in pick_best mode) ranks below every candidate it places, tied with the
// others it leaves out.
type RankAgreement struct {
	Items int `json:"items"`
	// PairwiseAgreement is the mean over Items of the share of candidate
	// pairs the two rankings order alike: both rank the same one higher,
	// or both tie them (one tying a pair the other orders disagrees). Nil
	// with no items.
	PairwiseAgreement *float64 `json:"pairwise_agreement,omitempty"`
	// TauB is the mean of Kendall's tau-b over the TauItems items where it
	// is defined (not where a ranking ties every candidate); nil when
	// there are none.
	TauItems int      `json:"tau_items"`
	TauB     *float64 `json:"tau_b,omitempty"`
}

// RankConcordance is Kendall's coefficient of concordance (W, corrected
// for ties; quality.KendallW) of the rankings three or more people gave
// the same item, item by item, averaged over the items. A candidate a
// ranking leaves out ranks below every candidate it places, tied with the
// others it leaves out, as in RankAgreement.
type RankConcordance struct {
	// Items is how many items three or more people ranked and W is
	// defined for (not where every ranking ties every candidate);
	// Rankings how many people's rankings they hold in all.
	Items    int `json:"items"`
	Rankings int `json:"rankings"`
	// KendallW is the mean of W over Items: 1 when everyone orders every
	// item alike, 0 when their rank sums are all equal. Nil with no items.
	KendallW *float64 `json:"kendall_w,omitempty"`
}

type concordanceAcc struct {
	items, rankings int
	w               float64
}

func (a *concordanceAcc) add(ids []string, rankings [][][]string) {
	values := make([][]float64, len(rankings))
	for i, r := range rankings {
		values[i] = ranks(ids, r)
	}
	w, ok := quality.KendallW(values)
	if !ok {
		return
	}
	a.items++
	a.rankings += len(rankings)
	a.w += w
}

func (a *concordanceAcc) report() RankConcordance {
	out := RankConcordance{Items: a.items, Rankings: a.rankings}
	if a.items > 0 {
		out.KendallW = ptr(a.w / float64(a.items))
	}
	return out
}

// CriterionAgreement is how the judge's scores on one rubric criterion
// compare with the final ones, over every candidate both scored.
type CriterionAgreement struct {
	Criterion string `json:"criterion"`
	Scores    int    `json:"scores"`
	// Exact is the share of Scores the same; MeanAbsDiff the mean
	// absolute difference, in points of the criterion's scale. Nil with no
	// scores.
	Exact       *float64 `json:"exact,omitempty"`
	MeanAbsDiff *float64 `json:"mean_abs_diff,omitempty"`
}

// JudgeWeek is the judge's agreement with people on the items finally
// decided in one ISO week ("2026-W45").
type JudgeWeek struct {
	Week     string               `json:"week"`
	Judge    RankAgreement        `json:"judge"`
	Criteria []CriterionAgreement `json:"criteria"`
}

type rankAcc struct {
	items, tauItems int
	agreement, tau  float64
}

func (a *rankAcc) add(ids []string, x, y [][]string) {
	rx, ry := ranks(ids, x), ranks(ids, y)
	share, ok := quality.PairwiseAgreement(rx, ry)
	if !ok {
		return
	}
	a.items++
	a.agreement += share
	if tau, ok := quality.KendallTauB(rx, ry); ok {
		a.tauItems++
		a.tau += tau
	}
}

func (a *rankAcc) report() RankAgreement {
	out := RankAgreement{Items: a.items, TauItems: a.tauItems}
	if a.items > 0 {
		out.PairwiseAgreement = ptr(a.agreement / float64(a.items))
	}
	if a.tauItems > 0 {
		out.TauB = ptr(a.tau / float64(a.tauItems))
	}
	return out
}

type scoreAcc struct {
	n, exact int
	absDiff  float64
}

type judgeAcc struct {
	ranking  rankAcc
	criteria map[string]*scoreAcc
}

func (j *judgeAcc) add(ids []string, draft, final countersign.Fields, judged, settled [][]string) {
	j.ranking.add(ids, judged, settled)
	drafted, _ := draft[countersign.FieldScores].(map[string]any)
	finals, _ := final[countersign.FieldScores].(map[string]any)
	for criterion, raw := range drafted {
		byJudge, _ := raw.(map[string]any)
		byPerson, _ := finals[criterion].(map[string]any)
		for id, v := range byJudge {
			a, okA := number(v)
			b, okB := number(byPerson[id])
			if !okA || !okB {
				continue
			}
			if j.criteria == nil {
				j.criteria = map[string]*scoreAcc{}
			}
			acc := j.criteria[criterion]
			if acc == nil {
				acc = &scoreAcc{}
				j.criteria[criterion] = acc
			}
			acc.n++
			if a == b {
				acc.exact++
			}
			acc.absDiff += math.Abs(a - b)
		}
	}
}

func (j *judgeAcc) criteriaReport() []CriterionAgreement {
	out := []CriterionAgreement{}
	for _, name := range slices.Sorted(maps.Keys(j.criteria)) {
		acc := j.criteria[name]
		out = append(out, CriterionAgreement{Criterion: name, Scores: acc.n,
			Exact: ptr(float64(acc.exact) / float64(acc.n)), MeanAbsDiff: ptr(acc.absDiff / float64(acc.n))})
	}
	return out
}

// comparisonAcc gathers the comparison figures document by document.
type comparisonAcc struct {
	seen        bool
	people      rankAcc
	concordance concordanceAcc
	judge       judgeAcc
	weeks       map[string]*judgeAcc
}

// add counts a document whose draft is a judge's ranking; firsts are the
// first decisions of each person who decided it, in order.
func (c *comparisonAcc) add(d *countersign.Document, firsts []*countersign.Decision) {
	if d.Draft.Failed() {
		return
	}
	judged, err := countersign.Tiers(d.Draft.Fields[countersign.FieldRanking])
	if err != nil || judged == nil {
		return
	}
	c.seen = true
	ids := candidateIDs(d, judged)
	var people [][][]string
	for _, dec := range firsts {
		if dec.Action == countersign.ActionReject {
			continue
		}
		if tiers, err := countersign.Tiers(countersign.Correct(d.Draft.Fields, dec.Fields)[countersign.FieldRanking]); err == nil {
			people = append(people, tiers)
		}
	}
	if len(people) >= 2 {
		c.people.add(ids, people[0], people[1])
	}
	if len(people) >= 3 {
		c.concordance.add(ids, people)
	}
	f := d.Final
	if f == nil || !byPerson(f) {
		return
	}
	settled, err := countersign.Tiers(f.Fields[countersign.FieldRanking])
	if err != nil {
		return
	}
	c.judge.add(ids, d.Draft.Fields, f.Fields, judged, settled)
	year, week := f.DecidedAt.UTC().ISOWeek()
	key := fmt.Sprintf("%d-W%02d", year, week)
	if c.weeks == nil {
		c.weeks = map[string]*judgeAcc{}
	}
	if c.weeks[key] == nil {
		c.weeks[key] = &judgeAcc{}
	}
	c.weeks[key].add(ids, d.Draft.Fields, f.Fields, judged, settled)
}

func (c *comparisonAcc) report() *ComparisonReport {
	if !c.seen {
		return nil
	}
	out := &ComparisonReport{People: c.people.report(), Concordance: c.concordance.report(), Judge: c.judge.ranking.report(), Criteria: c.judge.criteriaReport(), Weeks: []JudgeWeek{}}
	for _, week := range slices.Sorted(maps.Keys(c.weeks)) {
		w := c.weeks[week]
		out.Weeks = append(out.Weeks, JudgeWeek{Week: week, Judge: w.ranking.report(), Criteria: w.criteriaReport()})
	}
	return out
}

// byPerson tells a final a person settled: approved or corrected in a
// gate review, or audited after an auto-accept. A rejection settles no
// ranking.
func byPerson(f *countersign.Final) bool {
	if f.AuditedBy != "" {
		return true
	}
	return f.DecidedBy != countersign.SystemActor && (f.Action == countersign.ActionApprove || f.Action == countersign.ActionCorrect)
}

// candidateIDs are the item's candidates, from the document; when it
// does not read as an item, the candidates the judge ranked.
func candidateIDs(d *countersign.Document, judged [][]string) []string {
	var item countersign.ComparisonItem
	if err := json.Unmarshal([]byte(d.Content), &item); err == nil && len(item.Candidates) > 0 {
		return item.IDs()
	}
	return slices.Concat(judged...)
}

// ranks gives each candidate of ids its tier's index in tiers, best 0; a
// candidate tiers leave out ranks one below the last tier.
func ranks(ids []string, tiers [][]string) []float64 {
	at := map[string]int{}
	for i, tier := range tiers {
		for _, id := range tier {
			at[id] = i
		}
	}
	out := make([]float64, len(ids))
	for i, id := range ids {
		r, ok := at[id]
		if !ok {
			r = len(tiers)
		}
		out[i] = float64(r)
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
