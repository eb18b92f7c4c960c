package web

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
)

// tieChoice is the pairs mode's answer that the two candidates are equal.
const tieChoice = "="

// comparisonView is a comparison item (a prompt and its candidate
// responses) as its review page shows it: the judge's draft, and a form
// that ranks the candidates (in pick_best mode picks one, in pairs mode
// picks one of two). After a refused ranking it holds what the person
// entered, not the draft, so nothing they did is lost.
type comparisonView struct {
	Spec   *countersign.Comparison
	Prompt string
	// Candidates are in the order the page lists them: in rank_all mode by
	// rank (the entered ranks, else the judge's), otherwise as submitted.
	Candidates []candidateView
	// Submitted is the candidates' IDs as submitted, the columns of the
	// judge's table.
	Submitted []string
	Criteria  []criterionView
	// Judge is the judge's ranking in words ("b > a = c"), "" when the
	// draft has none; Orders its ranking in each order it saw the
	// candidates in; JudgeUnsafe the candidates it marked unsafe.
	Judge       string
	Orders      []string
	JudgeUnsafe []string
	// DraftProblem is why the judge's draft cannot be approved as it is
	// (what countersign.CheckComparison finds), "" when it can.
	DraftProblem string
	// Best is the candidate picked in pick_best and pairs modes, tieChoice
	// for two ranked equal in pairs mode.
	Best            string
	AllUnacceptable string
	Improved        string
	// Mine is whether the view holds what the person entered (after a
	// refusal) rather than the draft.
	Mine bool
}

// candidateView is one candidate on the page.
type candidateView struct {
	ID       string
	Response string
	Model    string
	Params   string
	// Label is "A" or "B" in pairs mode.
	Label string
	// Position is the candidate's place in the list, from 1.
	Position int
	// Rank is the rank input's text; TiedAbove whether it equals the rank
	// of the candidate listed above.
	Rank      string
	TiedAbove bool
	// JudgeRank is the candidate's place in the judge's ranking (0 when
	// the judge did not rank it), JudgeUnsafe the code the judge marked
	// it unsafe with.
	JudgeRank   int
	JudgeUnsafe string
	// Unsafe is the code it is marked unsafe with, "" for none.
	Unsafe string
	Scores []scoreView
}

// scoreView is a candidate's score on one criterion: the select's choice
// and the judge's score.
type scoreView struct {
	Criterion string
	Value     string
	Judge     string
	Options   []string
}

// criterionView is a rubric criterion with the judge's reason and its
// scores of the candidates as submitted.
type criterionView struct {
	countersign.Criterion
	Reason string
	Judge  []string
}

// Ranked is whether the page ranks every candidate (rank_all mode), with
// rank numbers, drag and keys.
func (c *comparisonView) Ranked() bool { return c.Spec.Mode == countersign.ModeRankAll }

// Ties is whether the tie policy lets candidates rank equal.
func (c *comparisonView) Ties() bool { return c.Spec.TiePolicy == countersign.TiesAllow }

// Size is how many candidates the item has.
func (c *comparisonView) Size() int { return len(c.Candidates) }

// other is, in pairs mode, the candidate that is not id.
func (c *comparisonView) other(id string) string {
	for _, cand := range c.Candidates {
		if cand.ID != id {
			return cand.ID
		}
	}
	return ""
}

// newComparisonView lays out a comparison document with its draft. The
// error says why the document is not an item of the task type.
func newComparisonView(tt *countersign.TaskType, doc *countersign.Document) (*comparisonView, error) {
	spec := tt.Comparison
	item, err := countersign.ReadDocumentItem(doc.Content, doc.Draft, spec)
	if err != nil {
		return nil, err
	}
	var draft countersign.Fields
	if !doc.Draft.Failed() {
		draft = doc.Draft.Fields
	}
	c := &comparisonView{Spec: spec, Prompt: item.Prompt, Submitted: item.IDs()}
	var tiers [][]string
	if v, ok := draft[countersign.FieldRanking]; ok {
		tiers, _ = countersign.Tiers(v)
	}
	judgeRank := map[string]int{}
	for i, tier := range tiers {
		for _, id := range tier {
			judgeRank[id] = i + 1
		}
	}
	c.Judge = rankingWords(tiers)
	if doc.Draft != nil {
		for i, o := range doc.Draft.Orders {
			shown := "as submitted"
			if i > 0 {
				shown = "in the order " + strings.Join(o.Order, ", ")
			}
			c.Orders = append(c.Orders, fmt.Sprintf("shown %s, it ranked %s", shown, strings.Join(o.Ranking, " > ")))
		}
	}
	judgeUnsafe := countersign.UnsafeCandidates(draft)
	scores, _ := draft[countersign.FieldScores].(map[string]any)
	reasons, _ := draft[countersign.FieldCriterionReasons].(map[string]any)
	for _, cr := range spec.Criteria {
		cv := criterionView{Criterion: cr}
		cv.Reason, _ = reasons[cr.Name].(string)
		byCand, _ := scores[cr.Name].(map[string]any)
		for _, id := range c.Submitted {
			cv.Judge = append(cv.Judge, scoreText(byCand[id]))
		}
		c.Criteria = append(c.Criteria, cv)
	}
	for i, cand := range item.Candidates {
		cv := candidateView{ID: cand.ID, Response: cand.Response, Model: cand.Model, Params: paramsText(cand.Params),
			JudgeRank: judgeRank[cand.ID], JudgeUnsafe: judgeUnsafe[cand.ID], Unsafe: judgeUnsafe[cand.ID]}
		if spec.Mode == countersign.ModePairs {
			cv.Label = string(rune('A' + i))
		}
		for _, cr := range c.Criteria {
			byCand, _ := scores[cr.Name].(map[string]any)
			judge := scoreText(byCand[cand.ID])
			cv.Scores = append(cv.Scores, scoreView{Criterion: cr.Name, Value: judge, Judge: judge, Options: scale(cr.Scale)})
		}
		c.Candidates = append(c.Candidates, cv)
	}
	for _, id := range slices.Sorted(maps.Keys(judgeUnsafe)) {
		c.JudgeUnsafe = append(c.JudgeUnsafe, id+" ("+judgeUnsafe[id]+")")
	}
	c.AllUnacceptable, _ = draft[countersign.FieldAllUnacceptable].(string)
	c.Improved, _ = draft[countersign.FieldImprovedResponse].(string)

	switch spec.Mode {
	case countersign.ModeRankAll:
		// The judge's ranks: a tie shares the rank of its first place, as
		// the page's script numbers them (1, 2, 2, 4).
		place := 0
		rank := map[string]int{}
		for _, tier := range tiers {
			for _, id := range tier {
				rank[id] = place + 1
			}
			place += len(tier)
		}
		for i := range c.Candidates {
			if r, ok := rank[c.Candidates[i].ID]; ok {
				c.Candidates[i].Rank = strconv.Itoa(r)
			}
		}
		c.order()
	case countersign.ModePickBest:
		if len(tiers) == 1 && len(tiers[0]) == 1 {
			c.Best = tiers[0][0]
		}
	case countersign.ModePairs:
		switch {
		case len(tiers) == 1 && len(tiers[0]) == 2:
			c.Best = tieChoice
		case len(tiers) == 2:
			c.Best = tiers[0][0]
		}
	}
	c.setPositions()
	if draft != nil {
		if err := countersign.CheckComparison(spec, c.Submitted, draft); err != nil {
			c.DraftProblem = err.Error()
		}
	}
	return c, nil
}

// order sorts the candidates by their rank inputs, as a ranking reads
// them: lower first, equal ones as submitted, those without a rank last.
func (c *comparisonView) order() {
	submitted := map[string]int{}
	for i, id := range c.Submitted {
		submitted[id] = i
	}
	key := func(cv candidateView) int {
		if n, err := strconv.Atoi(cv.Rank); err == nil {
			return n
		}
		return math.MaxInt
	}
	slices.SortStableFunc(c.Candidates, func(a, b candidateView) int {
		return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(submitted[a.ID], submitted[b.ID]))
	})
}

func (c *comparisonView) setPositions() {
	for i := range c.Candidates {
		c.Candidates[i].Position = i + 1
		c.Candidates[i].TiedAbove = i > 0 && c.Candidates[i].Rank != "" && c.Candidates[i].Rank == c.Candidates[i-1].Rank
	}
}

// read reads the ranking form into the view, so that a refused ranking
// shows what was entered, and returns the comparison's fields the person
// changed from the draft: the ranking (from the rank numbers, or the pick),
// every criterion's scores, the unsafe marks, all_unacceptable and the
// improved response. What cannot be read at all (a rank that is no whole
// number) is returned as problems; everything else is for
// countersign.CheckComparison, in the dispatcher, to judge.
func (c *comparisonView) read(form url.Values, draft countersign.Fields) (countersign.Fields, []string) {
	c.Mine = true
	var problems []string
	for i := range c.Candidates {
		cand := &c.Candidates[i]
		cand.Unsafe = strings.TrimSpace(form.Get("unsafe." + cand.ID))
		for j := range cand.Scores {
			cand.Scores[j].Value = strings.TrimSpace(form.Get("score." + cand.Scores[j].Criterion + "." + cand.ID))
		}
	}
	c.AllUnacceptable = strings.TrimSpace(form.Get("all_unacceptable"))
	c.Improved = strings.TrimSpace(strings.ReplaceAll(form.Get("improved_response"), "\r\n", "\n"))

	var tiers [][]string
	switch c.Spec.Mode {
	case countersign.ModeRankAll:
		for i := range c.Candidates {
			cand := &c.Candidates[i]
			cand.Rank = strings.TrimSpace(form.Get("rank." + cand.ID))
			if n, err := strconv.Atoi(cand.Rank); cand.Rank != "" && (err != nil || n < 1) {
				problems = append(problems, fmt.Sprintf("The rank of candidate %s, %q, is not a whole number of 1 or more: give each candidate its place, 1 for the best.", cand.ID, cand.Rank))
			}
		}
		c.order()
		// A candidate without a rank is left out of the ranking, for the
		// check to name.
		last := ""
		for _, cand := range c.Candidates {
			switch {
			case cand.Rank == "":
			case cand.Rank == last:
				tiers[len(tiers)-1] = append(tiers[len(tiers)-1], cand.ID)
			default:
				tiers = append(tiers, []string{cand.ID})
			}
			if cand.Rank != "" {
				last = cand.Rank
			}
		}
	case countersign.ModePickBest:
		c.Best = strings.TrimSpace(form.Get("best"))
		if c.Best != "" {
			tiers = [][]string{{c.Best}}
		}
	case countersign.ModePairs:
		c.Best = strings.TrimSpace(form.Get("best"))
		switch {
		case c.Best == tieChoice:
			tiers = [][]string{slices.Clone(c.Submitted)}
		case c.Best != "":
			tiers = [][]string{{c.Best}, {c.other(c.Best)}}
		}
	}
	c.setPositions()

	fields := countersign.Fields{countersign.FieldRanking: countersign.RankingValue(tiers)}
	scores := map[string]any{}
	for _, cr := range c.Spec.Criteria {
		byCand := map[string]any{}
		for _, cand := range c.Candidates {
			for _, s := range cand.Scores {
				if s.Criterion != cr.Name || s.Value == "" {
					continue
				}
				if n, err := strconv.Atoi(s.Value); err == nil {
					byCand[cand.ID] = n
				} else {
					byCand[cand.ID] = s.Value // for the check to name
				}
			}
		}
		scores[cr.Name] = byCand
	}
	fields[countersign.FieldScores] = scores
	var marks []any
	for _, id := range c.Submitted {
		for _, cand := range c.Candidates {
			if cand.ID == id && cand.Unsafe != "" {
				marks = append(marks, map[string]any{"candidate": id, "code": cand.Unsafe})
			}
		}
	}
	if marks != nil {
		fields[countersign.FieldUnsafe] = marks
	}
	if c.AllUnacceptable != "" {
		fields[countersign.FieldAllUnacceptable] = c.AllUnacceptable
	}
	if c.Improved != "" {
		fields[countersign.FieldImprovedResponse] = c.Improved
	}

	// The patch holds what differs from the draft; a field the draft has
	// and the form leaves empty is removed.
	patch := countersign.Fields{}
	for _, name := range []string{countersign.FieldRanking, countersign.FieldScores, countersign.FieldUnsafe,
		countersign.FieldAllUnacceptable, countersign.FieldImprovedResponse} {
		now, set := fields[name]
		was, had := draft[name]
		if list, isList := was.([]any); isList && len(list) == 0 {
			had = false // the judge's empty list of unsafe marks is none
		}
		switch {
		case set && (!had || !countersign.SameValue(now, was)):
			patch[name] = now
		case !set && had:
			patch[name] = nil
		}
	}
	return patch, problems
}

// rankingWords is a ranking as a person reads it: "b > a = c".
func rankingWords(tiers [][]string) string {
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = strings.Join(t, " = ")
	}
	return strings.Join(parts, " > ")
}

// scoreText is a score as its select holds it, "" for none or one that
// is not a whole number.
func scoreText(v any) string {
	switch n := v.(type) {
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1e9 {
			return strconv.Itoa(int(n))
		}
	case int:
		return strconv.Itoa(n)
	case int64:
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// scale lists a criterion's scores, lowest first.
func scale(s countersign.SeverityScale) []string {
	var out []string
	for n := s.Min; n <= s.Max; n++ {
		out = append(out, strconv.Itoa(n))
	}
	return out
}

// paramsText is a candidate's generation parameters in words:
// "temperature 0.2, top_p 0.9".
func paramsText(p map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+" "+countersign.ValueText(p[k]))
	}
	return strings.Join(parts, ", ")
}
