package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/countersign/countersign"
)

// pairwiseLine is one preference pair a comparison's final ranking
// implies, in the standard (not conversational) format TRL's reward and
// DPO trainers read: prompt, chosen and rejected as text. The fields are
// documented in docs/api.md (Exports of comparisons), and the export test
// holds every line to that list.
type pairwiseLine struct {
	Prompt        string `json:"prompt"`
	Chosen        string `json:"chosen"`
	Rejected      string `json:"rejected"`
	ChosenID      string `json:"chosen_id"`
	RejectedID    string `json:"rejected_id"`
	ChosenModel   string `json:"chosen_model"`
	RejectedModel string `json:"rejected_model"`
	// Margin is how many tiers apart the two are in the ranking (1:
	// neighbours). ScoreMargin is the difference of their mean rubric
	// scores, each score scaled to 0..1 on its criterion's scale.
	Margin      int     `json:"margin"`
	ScoreMargin float64 `json:"score_margin"`
	ItemID      string  `json:"item_id"`
	// DecidedBy is who settled the ranking (the engine's actor for a
	// judge's ranking accepted without a person), Disposition whether a
	// person did (analyst) or not (automatic).
	DecidedBy   string                  `json:"decided_by"`
	Disposition countersign.Disposition `json:"disposition"`
	Metadata    *metadata               `json:"metadata"`
}

// rankedLine is one comparison item with its final ranking: the tiers
// best first (always lists, ties and all, so a loader sees one type) and
// every candidate with its rank, scores and unsafe mark.
type rankedLine struct {
	Prompt          string                  `json:"prompt"`
	ItemID          string                  `json:"item_id"`
	Ranking         [][]string              `json:"ranking"`
	Candidates      []rankedCandidate       `json:"candidates"`
	AllUnacceptable string                  `json:"all_unacceptable"`
	ImprovedResp    string                  `json:"improved_response"`
	DecidedBy       string                  `json:"decided_by"`
	Disposition     countersign.Disposition `json:"disposition"`
	Metadata        *metadata               `json:"metadata"`
}

// rankedCandidate is a candidate of a ranked line. Rank is its tier, 1
// best; 0 when the ranking does not place it (pick_best leaves the others
// unranked).
type rankedCandidate struct {
	ID       string         `json:"id"`
	Response string         `json:"response"`
	Model    string         `json:"model"`
	Params   map[string]any `json:"params"`
	Rank     int            `json:"rank"`
	Scores   map[string]int `json:"scores"`
	Unsafe   string         `json:"unsafe"`
}

// comparisonSink writes the pairwise, ranked or improved lines of the
// comparison items it is given; other documents give no line.
type comparisonSink struct {
	out    *bufio.Writer
	enc    *json.Encoder
	format Format
	// taskTypes gives the rubric (and its scales) of the task type version
	// a document is pinned to; rubric caches it per version.
	taskTypes TaskTypes
	rubric    map[string]*countersign.Comparison
}

func newComparisonSink(format Format, w io.Writer, taskTypes TaskTypes) *comparisonSink {
	s := &comparisonSink{out: bufio.NewWriter(w), format: format, taskTypes: taskTypes, rubric: map[string]*countersign.Comparison{}}
	s.enc = json.NewEncoder(s.out)
	s.enc.SetEscapeHTML(false)
	return s
}

func (s *comparisonSink) flush() error { return s.out.Flush() }

// anyItem reads an item whatever its task type's limits: it was held to
// them at intake.
var anyItem = &countersign.Comparison{MaxCandidates: countersign.MaxCandidatesLimit, MaxResponseBytes: math.MaxInt32}

// rubricOf returns the comparison of the task type version the document
// is pinned to.
func (s *comparisonSink) rubricOf(ctx context.Context, version string) (*countersign.Comparison, error) {
	if c, ok := s.rubric[version]; ok {
		return c, nil
	}
	tt, err := s.taskTypes(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("task type version %s: %w", version, err)
	}
	if tt.Comparison == nil {
		return nil, fmt.Errorf("task type version %s is not a comparison: its rubric's scales are unknown", version)
	}
	s.rubric[version] = tt.Comparison
	return tt.Comparison, nil
}

func (s *comparisonSink) write(ctx context.Context, r *record) (int, error) {
	fields := r.doc.Final.Fields
	raw, ok := fields[countersign.FieldRanking]
	if !ok {
		return 0, nil
	}
	item, err := countersign.ReadDocumentItem(r.doc.Content, r.doc.Draft, anyItem)
	if err != nil {
		return 0, nil // not a comparison item: a field of another kind named ranking
	}
	tiers, err := countersign.Tiers(raw)
	if err != nil {
		return 0, fmt.Errorf("final ranking: %w", err)
	}
	unacceptable, _ := fields[countersign.FieldAllUnacceptable].(string)
	improved, _ := fields[countersign.FieldImprovedResponse].(string)
	var lines []any
	switch s.format {
	case Improved:
		if improved != "" {
			lines = append(lines, &sftLine{Messages: []message{{Role: "user", Content: item.Prompt}, {Role: "assistant", Content: improved}}, Metadata: &r.meta})
		}
	case Ranked:
		lines = append(lines, ranked(r, item, tiers, unacceptable, improved))
	case Pairwise:
		if unacceptable != "" {
			break // no candidate to learn from
		}
		unsafe := countersign.UnsafeCandidates(fields)
		marked := map[string]bool{}
		for id := range unsafe {
			marked[id] = true
		}
		mode := countersign.ModeRankAll
		if placed := len(slices.Concat(tiers...)); placed < len(item.Candidates) {
			mode = countersign.ModePickBest
		}
		spec, err := s.rubricOf(ctx, r.doc.TaskTypeVersion)
		if err != nil {
			return 0, err
		}
		scores := meanScores(spec, fields)
		for _, p := range countersign.Preferences(mode, item.IDs(), tiers, marked) {
			chosen, rejected := item.Candidate(p.Chosen), item.Candidate(p.Rejected)
			if chosen == nil || rejected == nil {
				return 0, fmt.Errorf("final ranking names a candidate the item lacks (%s or %s)", p.Chosen, p.Rejected)
			}
			lines = append(lines, &pairwiseLine{
				Prompt: item.Prompt, Chosen: chosen.Response, Rejected: rejected.Response,
				ChosenID: chosen.ID, RejectedID: rejected.ID, ChosenModel: chosen.Model, RejectedModel: rejected.Model,
				Margin: p.Margin, ScoreMargin: round3(scores[chosen.ID] - scores[rejected.ID]), ItemID: item.ID,
				DecidedBy: r.doc.Final.DecidedBy, Disposition: r.doc.Final.Disposition(), Metadata: &r.meta,
			})
		}
	}
	for _, line := range lines {
		if err := s.enc.Encode(line); err != nil {
			return 0, fmt.Errorf("write record: %w", err)
		}
	}
	return len(lines), nil
}

func ranked(r *record, item *countersign.ComparisonItem, tiers [][]string, unacceptable, improved string) *rankedLine {
	fields := r.doc.Final.Fields
	unsafe := countersign.UnsafeCandidates(fields)
	rank := map[string]int{}
	for i, tier := range tiers {
		for _, id := range tier {
			rank[id] = i + 1
		}
	}
	byCriterion, _ := fields[countersign.FieldScores].(map[string]any)
	line := &rankedLine{Prompt: item.Prompt, ItemID: item.ID, Ranking: tiers, AllUnacceptable: unacceptable, ImprovedResp: improved,
		DecidedBy: r.doc.Final.DecidedBy, Disposition: r.doc.Final.Disposition(), Metadata: &r.meta}
	for _, c := range item.Candidates {
		rc := rankedCandidate{ID: c.ID, Response: c.Response, Model: c.Model, Params: c.Params, Rank: rank[c.ID], Scores: map[string]int{}, Unsafe: unsafe[c.ID]}
		if rc.Params == nil {
			rc.Params = map[string]any{}
		}
		for criterion, v := range byCriterion {
			if per, ok := v.(map[string]any); ok {
				if f, ok := per[c.ID].(float64); ok {
					rc.Scores[criterion] = int(f)
				}
			}
		}
		line.Candidates = append(line.Candidates, rc)
	}
	return line
}

// meanScores is each candidate's mean score over the criteria, every
// score scaled to 0..1 on its criterion's declared scale (Min 0, Max 1) in
// the rubric of the document's pinned task type version, so 5 against 4
// on 1..5 is 0.25 apart, 5 against 1 is 1. A criterion the rubric lacks, or
// a scale of one point, is left out.
func meanScores(spec *countersign.Comparison, fields countersign.Fields) map[string]float64 {
	byCriterion, _ := fields[countersign.FieldScores].(map[string]any)
	sum, n := map[string]float64{}, map[string]int{}
	for name, v := range byCriterion {
		per, ok := v.(map[string]any)
		cr := spec.Criterion(name)
		if !ok || cr == nil || cr.Scale.Max <= cr.Scale.Min {
			continue
		}
		lo, span := float64(cr.Scale.Min), float64(cr.Scale.Max-cr.Scale.Min)
		for id, s := range per {
			if f, ok := s.(float64); ok {
				sum[id] += (f - lo) / span
				n[id]++
			}
		}
	}
	out := map[string]float64{}
	for id, total := range sum {
		out[id] = total / float64(n[id])
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
