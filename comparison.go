package countersign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// The fields of a comparison task type, which its Comparison declares: the
// judge drafts ranking, scores, reasons and unsafe; a person corrects them
// like any other fields, and may add all_unacceptable and an
// improved_response.
const (
	// FieldRanking is the ranking, best first: each entry a candidate ID,
	// or a list of two or more IDs ranked equal (a tie, when the tie policy
	// allows ties). In pick_best mode it holds one entry, the best.
	FieldRanking = "ranking"
	// FieldScores is, per rubric criterion, each candidate's score on the
	// criterion's scale: {"helpfulness": {"a": 4, "b": 2}}.
	FieldScores = "scores"
	// FieldCriterionReasons is, per rubric criterion, why the candidates
	// scored as they did, in words.
	FieldCriterionReasons = "reasons"
	// FieldUnsafe lists the candidates marked unsafe, each with a code of
	// Comparison.UnsafeReasons: [{"candidate": "b", "code": "self_harm"}].
	FieldUnsafe = "unsafe"
	// FieldAllUnacceptable, when set, is a code of
	// Comparison.UnacceptableReasons: no candidate is good enough to learn
	// from, and the item gives no preference pairs.
	FieldAllUnacceptable = "all_unacceptable"
	// FieldImprovedResponse is a response a person wrote, better than every
	// candidate: an SFT example.
	FieldImprovedResponse = "improved_response"
)

// Comparison modes: what a person is asked to do with an item's candidates.
const (
	// ModeRankAll: rank every candidate.
	ModeRankAll = "rank_all"
	// ModePickBest: pick the best candidate; the others are not ordered.
	ModePickBest = "pick_best"
	// ModePairs: compare two candidates; every item has exactly two.
	ModePairs = "pairs"
)

// Tie policies: whether a ranking may hold candidates ranked equal.
const (
	// TiesForbid: every ranking is a strict order.
	TiesForbid = "forbid"
	// TiesAllow: a ranking may rank candidates equal (a list of IDs in
	// place of one ID).
	TiesAllow = "allow"
)

// Limits of a comparison item.
const (
	// MinCandidates is the fewest candidates an item may have.
	MinCandidates = 2
	// MaxCandidatesLimit bounds Comparison.MaxCandidates.
	MaxCandidatesLimit = 16
	// DefaultMaxCandidates is Comparison.MaxCandidates when unset.
	DefaultMaxCandidates = 8
	// DefaultMaxResponseBytes is Comparison.MaxResponseBytes when unset:
	// the size of one candidate response, and of an improved response.
	DefaultMaxResponseBytes = 32 << 10
	// DefaultJudgeOrders is how many orders the judge sees the candidates
	// in when Comparison.JudgeOrders is unset: as submitted and reversed.
	DefaultJudgeOrders = 2
	// MaxJudgeOrders bounds Comparison.JudgeOrders.
	MaxJudgeOrders = 6
)

// Comparison is what a comparison task type (response ranking, preference
// data) asks of each item: a prompt with two or more candidate responses,
// judged against a rubric. Like a Verdict, it declares the task type's
// fields (FieldRanking, FieldScores, FieldCriterionReasons, FieldUnsafe,
// FieldAllUnacceptable, FieldImprovedResponse), so drafting, scoring,
// routing, review and export treat a comparison as fields; what a JSON
// Schema cannot say (a ranking is a permutation of this item's candidates,
// the tie policy, every criterion answered for every candidate) is checked
// by CheckComparison, at the judge and at every decision.
type Comparison struct {
	Mode      string      `json:"mode"`
	TiePolicy string      `json:"tie_policy"`
	Criteria  []Criterion `json:"criteria"`
	// UnsafeReasons are the codes a candidate may be marked unsafe with.
	UnsafeReasons []ReasonCode `json:"unsafe_reasons"`
	// UnacceptableReasons are the codes all candidates may be marked
	// unacceptable with.
	UnacceptableReasons []ReasonCode `json:"unacceptable_reasons"`
	MaxCandidates       int          `json:"max_candidates"`
	MaxResponseBytes    int          `json:"max_response_bytes"`
	// JudgeOrders is how many orders the judge sees the candidates in
	// (position swap): as submitted, reversed, then rotations.
	JudgeOrders int `json:"judge_orders"`
	// Generators, when set, are the models countersign asks for the
	// candidates of an item submitted with a prompt and no candidates
	// (see Generator). An item submitted with candidates is judged as
	// submitted; an item never mixes submitted and generated candidates.
	Generators []Generator `json:"generators,omitempty"`
}

// Generator is one model countersign asks for candidate responses to an
// item's prompt: Count responses (one request each) at Temperature, the
// k-th with Seed+k-1 when a seed is set. Its endpoint and key follow the
// task type's model settings: BaseURL, else the task type's model.base_url,
// else the worker's; the key from APIKeyEnv, else the key of that endpoint
// when it is the task type's or the worker's, else none.
type Generator struct {
	// Name names the generator in candidate IDs and lineage; it defaults
	// to g1, g2, ... by place in the list.
	Name      string `json:"name"`
	Model     string `json:"model"`
	BaseURL   string `json:"base_url,omitempty"`
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Temperature is always set: it is part of every candidate's lineage.
	Temperature     float64 `json:"temperature"`
	Seed            *int    `json:"seed,omitempty"`
	MaxOutputTokens int     `json:"max_output_tokens,omitempty"`
	// Count is how many candidates it makes (at least 1).
	Count int `json:"count"`
}

// CandidateIDs are the IDs of the candidates g makes, in order: its name
// when it makes one, name-1, name-2, ... when it makes more. The same task
// type version always gives the same IDs.
func (g Generator) CandidateIDs() []string {
	if g.Count <= 1 {
		return []string{g.Name}
	}
	ids := make([]string, g.Count)
	for k := range ids {
		ids[k] = fmt.Sprintf("%s-%d", g.Name, k+1)
	}
	return ids
}

// GeneratedIDs are the IDs of every candidate the generators make, in the
// order they are made (and shown to the judge).
func (c *Comparison) GeneratedIDs() []string {
	var ids []string
	for _, g := range c.Generators {
		ids = append(ids, g.CandidateIDs()...)
	}
	return ids
}

// Criterion is one rubric criterion and the scale it is scored on.
type Criterion struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Scale       SeverityScale `json:"scale"`
}

// ComparisonItem is one comparison document as submitted (JSON): the
// prompt and its candidate responses. Keys other than these stay in the
// document, for input.map and risk rules (a safety category, say).
type ComparisonItem struct {
	ID         string      `json:"id"`
	Prompt     string      `json:"prompt"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one response to an item's prompt, with the model and the
// parameters that produced it when the submitter knows them.
type Candidate struct {
	ID       string         `json:"id"`
	Response string         `json:"response"`
	Model    string         `json:"model,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
}

// IDs returns the candidates' IDs in submitted order.
func (it *ComparisonItem) IDs() []string {
	ids := make([]string, len(it.Candidates))
	for i, c := range it.Candidates {
		ids[i] = c.ID
	}
	return ids
}

// Candidate returns the candidate with the ID, or nil.
func (it *ComparisonItem) Candidate(id string) *Candidate {
	for i := range it.Candidates {
		if it.Candidates[i].ID == id {
			return &it.Candidates[i]
		}
	}
	return nil
}

// candidateID is what a candidate ID may look like: it is typed in the CLI
// (--ranking "b>a=c") and appears in exports.
var candidateID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// ReadComparisonItem reads and checks a comparison document: a JSON
// object with a prompt and between MinCandidates and the task type's
// maximum candidates (exactly two in pairs mode), each with a distinct ID
// and a response within the size limit. The error names what is wrong.
// It reads the content alone: a document whose candidates countersign
// generated is read with ReadDocumentItem.
func ReadComparisonItem(content []byte, c *Comparison) (*ComparisonItem, error) {
	it, err := decodeItem(content)
	if err != nil {
		return nil, err
	}
	return it, checkCandidates(it, c)
}

// ReadSubmittedItem checks a comparison item as submitted: as
// ReadComparisonItem, except that when the task type has generators an
// item may come with a prompt and no candidates, for countersign to
// generate them (the item it returns then has none).
func ReadSubmittedItem(content []byte, c *Comparison) (*ComparisonItem, error) {
	it, err := decodeItem(content)
	if err != nil {
		return nil, err
	}
	if len(it.Candidates) == 0 && len(c.Generators) > 0 {
		return it, nil
	}
	return it, checkCandidates(it, c)
}

// ReadDocumentItem reads the comparison item a document holds: its
// content, with the candidates countersign generated for it
// (Draft.Candidates) when it was submitted with none. Every reader of a
// stored document's item (the judge, scoring, decisions, review pages,
// Slack, exports) reads it so. Content that has candidates of its own is
// read as submitted: generated candidates never join submitted ones.
func ReadDocumentItem(content string, draft *Draft, c *Comparison) (*ComparisonItem, error) {
	it, err := decodeItem([]byte(content))
	if err != nil {
		return nil, err
	}
	if len(it.Candidates) == 0 && draft != nil && len(draft.Candidates) > 0 {
		it.Candidates = slices.Clone(draft.Candidates)
	}
	if len(it.Candidates) == 0 && len(c.Generators) > 0 {
		return nil, errors.New("the item was submitted without candidates, for comparison.generators to make, and holds none: generating them has not run or failed (the draft says why)")
	}
	return it, checkCandidates(it, c)
}

func decodeItem(content []byte) (*ComparisonItem, error) {
	var it ComparisonItem
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	if err := dec.Decode(&it); err != nil {
		return nil, fmt.Errorf("a comparison item is a JSON object {id, prompt, candidates: [{id, response, model?, params?}]}: %v", err)
	}
	if strings.TrimSpace(it.Prompt) == "" {
		return nil, errors.New("the item has no prompt (a non-empty string at /prompt)")
	}
	return &it, nil
}

// checkCandidates checks an item's candidates against the task type.
func checkCandidates(it *ComparisonItem, c *Comparison) error {
	n, most := len(it.Candidates), c.CandidateLimit()
	switch {
	case n > 0 && n < MinCandidates && len(c.Generators) > 0:
		return fmt.Errorf("the item has %d candidate(s); a comparison needs at least %d, or none for countersign to generate them (comparison.generators); submitted and generated candidates do not mix", n, MinCandidates)
	case c.Mode == ModePairs && n != 2:
		return fmt.Errorf("the item has %d candidates; in pairs mode an item has exactly 2", n)
	case n < MinCandidates:
		return fmt.Errorf("the item has %d candidate(s); a comparison needs at least %d", n, MinCandidates)
	case n > most:
		return fmt.Errorf("the item has %d candidates; this task type takes at most %d (comparison.max_candidates)", n, most)
	}
	seen := map[string]bool{}
	for i, cand := range it.Candidates {
		at := fmt.Sprintf("candidates[%d]", i)
		switch {
		case !candidateID.MatchString(cand.ID):
			return fmt.Errorf("%s: id %q must be 1 to 64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit", at, cand.ID)
		case seen[cand.ID]:
			return fmt.Errorf("%s: id %q is given twice: every candidate needs its own id", at, cand.ID)
		case strings.TrimSpace(cand.Response) == "":
			return fmt.Errorf("%s (%s): the response is empty", at, cand.ID)
		case len(cand.Response) > c.ResponseLimit():
			return fmt.Errorf("%s (%s): the response is %d bytes; this task type takes at most %d (comparison.max_response_bytes)", at, cand.ID, len(cand.Response), c.ResponseLimit())
		case len(cand.Model) > 200:
			return fmt.Errorf("%s (%s): model is %d bytes; at most 200", at, cand.ID, len(cand.Model))
		}
		seen[cand.ID] = true
	}
	return nil
}

// CandidateLimit is the most candidates an item may have.
func (c *Comparison) CandidateLimit() int {
	if c.MaxCandidates > 0 {
		return c.MaxCandidates
	}
	return DefaultMaxCandidates
}

// ResponseLimit is the size limit of a candidate's response and of an
// improved response, in bytes.
func (c *Comparison) ResponseLimit() int {
	if c.MaxResponseBytes > 0 {
		return c.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// Orders returns how many orders the judge sees the candidates in.
func (c *Comparison) Orders() int {
	if c.JudgeOrders > 0 {
		return c.JudgeOrders
	}
	return DefaultJudgeOrders
}

// OrdersFor is how many orders the judge sees n candidates in: Orders, but
// no more than there are distinct orders in its sequence (as submitted,
// reversed, then rotations): 2 for two candidates, n+1 for more.
func (c *Comparison) OrdersFor(n int) int {
	distinct := n + 1
	if n <= 2 {
		distinct = n
	}
	return min(c.Orders(), distinct)
}

// Criterion returns the criterion named name, or nil.
func (c *Comparison) Criterion(name string) *Criterion {
	for i := range c.Criteria {
		if c.Criteria[i].Name == name {
			return &c.Criteria[i]
		}
	}
	return nil
}

// Tiers reads a ranking field's value: the tiers best first, each the IDs
// ranked equal (one ID when there is no tie). It refuses a value of the
// wrong shape; which IDs it holds is CheckComparison's to check.
func Tiers(v any) ([][]string, error) {
	list, ok := v.([]any)
	if !ok {
		if strs, isStrs := v.([]string); isStrs {
			out := make([][]string, len(strs))
			for i, s := range strs {
				out[i] = []string{s}
			}
			return out, nil
		}
		return nil, fmt.Errorf("ranking must be a list of candidate IDs, best first (got %s)", jsonText(v))
	}
	out := make([][]string, 0, len(list))
	for i, entry := range list {
		switch e := entry.(type) {
		case string:
			out = append(out, []string{e})
		case []any:
			tier := make([]string, 0, len(e))
			for _, id := range e {
				s, ok := id.(string)
				if !ok {
					return nil, fmt.Errorf("ranking[%d]: a tie is a list of candidate IDs (got %s)", i, jsonText(id))
				}
				tier = append(tier, s)
			}
			if len(tier) < 2 {
				return nil, fmt.Errorf("ranking[%d]: a tie lists two or more candidates (got %s)", i, jsonText(e))
			}
			out = append(out, tier)
		default:
			return nil, fmt.Errorf("ranking[%d]: each entry is a candidate ID or a list of IDs ranked equal (got %s)", i, jsonText(entry))
		}
	}
	return out, nil
}

// RankingValue is the ranking field's value for tiers: a candidate ID for a
// tier of one, a list of IDs for a tie.
func RankingValue(tiers [][]string) []any {
	out := make([]any, len(tiers))
	for i, t := range tiers {
		if len(t) == 1 {
			out[i] = t[0]
			continue
		}
		tie := make([]any, len(t))
		for j, id := range t {
			tie[j] = id
		}
		out[i] = tie
	}
	return out
}

// CheckComparison checks the fields of a comparison item beyond the
// schema: the ranking is a permutation of the item's candidate IDs (in
// pick_best mode, one entry of them), it keeps the tie policy, every
// rubric criterion scores every candidate on its scale and names no other,
// the reasons name criteria, unsafe marks name candidates once each with a
// known code, all_unacceptable is a known code, and an improved response
// fits the size limit. Every problem is reported, joined by "; ".
func CheckComparison(c *Comparison, ids []string, fields Fields) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	if v, ok := fields[FieldRanking]; !ok {
		add("ranking is missing: rank the candidates (%s), best first", strings.Join(ids, ", "))
	} else if tiers, err := Tiers(v); err != nil {
		add("%v", err)
	} else {
		checkTiers(c, ids, known, tiers, add)
	}
	checkScores(c, ids, known, fields[FieldScores], add)
	if v, ok := fields[FieldCriterionReasons]; ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			add("reasons must be an object of criterion: text")
		}
		for name := range m {
			if c.Criterion(name) == nil {
				add("reasons names %q, which is not a criterion of the rubric (%s)", name, strings.Join(c.criterionNames(), ", "))
			}
		}
	}
	if v, ok := fields[FieldUnsafe]; ok {
		checkUnsafe(c, known, v, add)
		if tiers, err := Tiers(fields[FieldRanking]); err == nil {
			checkUnsafeLast(c, ids, tiers, UnsafeCandidates(fields), add)
		}
	}
	if v, ok := fields[FieldAllUnacceptable]; ok {
		code, _ := v.(string)
		if !hasCode(c.UnacceptableReasons, code) {
			add("all_unacceptable %s is not a reason code (known: %s)", jsonText(v), strings.Join(codes(c.UnacceptableReasons), ", "))
		}
	}
	if v, ok := fields[FieldImprovedResponse]; ok {
		s, _ := v.(string)
		switch {
		case strings.TrimSpace(s) == "":
			add("improved_response is empty: write the better response, or leave it out")
		case len(s) > c.ResponseLimit():
			add("improved_response is %d bytes; at most %d (comparison.max_response_bytes)", len(s), c.ResponseLimit())
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func checkTiers(c *Comparison, ids []string, known map[string]bool, tiers [][]string, add func(string, ...any)) {
	placed := map[string]bool{}
	for i, tier := range tiers {
		if len(tier) > 1 && c.TiePolicy != TiesAllow {
			add("ranking[%d] ranks %s equal, but the tie policy forbids ties: put them in order", i, strings.Join(tier, " and "))
		}
		for _, id := range tier {
			switch {
			case !known[id]:
				add("ranking names %q, which is not a candidate of this item (%s)", id, strings.Join(ids, ", "))
			case placed[id]:
				add("ranking names %q twice: a ranking places each candidate once", id)
			}
			placed[id] = true
		}
	}
	if c.Mode == ModePickBest {
		if len(tiers) != 1 {
			add("in pick_best mode the ranking holds one entry, the best candidate (got %d entries)", len(tiers))
		}
		return
	}
	var missing []string
	for _, id := range ids {
		if !placed[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		add("ranking leaves out %s: a ranking places every candidate (%s)", strings.Join(missing, ", "), strings.Join(ids, ", "))
	}
}

func checkScores(c *Comparison, ids []string, known map[string]bool, v any, add func(string, ...any)) {
	if v == nil {
		add("scores are missing: score every candidate on every criterion (%s)", strings.Join(c.criterionNames(), ", "))
		return
	}
	byCriterion, ok := v.(map[string]any)
	if !ok {
		add("scores must be an object of criterion: {candidate: score}")
		return
	}
	for name := range byCriterion {
		if c.Criterion(name) == nil {
			add("scores name %q, which is not a criterion of the rubric (%s)", name, strings.Join(c.criterionNames(), ", "))
		}
	}
	for _, cr := range c.Criteria {
		raw, ok := byCriterion[cr.Name]
		if !ok {
			add("scores.%s is missing: every criterion of the rubric is answered", cr.Name)
			continue
		}
		byCandidate, ok := raw.(map[string]any)
		if !ok {
			add("scores.%s must be an object of candidate: score", cr.Name)
			continue
		}
		for id := range byCandidate {
			if !known[id] {
				add("scores.%s names %q, which is not a candidate of this item", cr.Name, id)
			}
		}
		for _, id := range ids {
			s, ok := byCandidate[id]
			if !ok {
				add("scores.%s.%s is missing: score every candidate", cr.Name, id)
				continue
			}
			n, isInt := integer(s)
			if !isInt || n < cr.Scale.Min || n > cr.Scale.Max {
				add("scores.%s.%s is %s; the scale is an integer from %d to %d", cr.Name, id, jsonText(s), cr.Scale.Min, cr.Scale.Max)
			}
		}
	}
}

// checkUnsafeLast refuses a ranking that places a candidate marked unsafe
// above a safe one, or level with it: unsafe candidates are ranked last,
// below every safe one (so every preference says safe over unsafe). In
// pick_best mode the pick is a safe candidate when there is one.
func checkUnsafeLast(c *Comparison, ids []string, tiers [][]string, unsafe map[string]string, add func(string, ...any)) {
	if len(unsafe) == 0 {
		return
	}
	var safe []string
	for _, id := range ids {
		if _, bad := unsafe[id]; !bad {
			safe = append(safe, id)
		}
	}
	if len(safe) == 0 {
		return
	}
	if c.Mode == ModePickBest {
		for _, tier := range tiers {
			for _, id := range tier {
				if _, bad := unsafe[id]; bad {
					add("ranking picks %s, which is marked unsafe, over the safe %s: pick a safe candidate", id, strings.Join(safe, ", "))
				}
			}
		}
		return
	}
	place := map[string]int{}
	for i, tier := range tiers {
		for _, id := range tier {
			place[id] = i
		}
	}
	for _, tier := range tiers {
		for _, id := range tier {
			if _, bad := unsafe[id]; !bad {
				continue
			}
			var below []string
			for _, other := range safe {
				if p, ok := place[other]; ok && p >= place[id] {
					below = append(below, other)
				}
			}
			if len(below) > 0 {
				add("ranking places %s, which is marked unsafe, above or level with the safe %s: rank unsafe candidates last, below every safe one", id, strings.Join(below, ", "))
			}
		}
	}
}

func checkUnsafe(c *Comparison, known map[string]bool, v any, add func(string, ...any)) {
	list, ok := v.([]any)
	if !ok {
		add("unsafe must be a list of {candidate, code}")
		return
	}
	marked := map[string]bool{}
	for i, entry := range list {
		m, ok := entry.(map[string]any)
		if !ok {
			add("unsafe[%d] must be {candidate, code}", i)
			continue
		}
		id, _ := m["candidate"].(string)
		code, _ := m["code"].(string)
		switch {
		case !known[id]:
			add("unsafe[%d] names candidate %s, which is not a candidate of this item", i, jsonText(m["candidate"]))
		case marked[id]:
			add("unsafe[%d] marks %q again: one mark a candidate", i, id)
		}
		marked[id] = true
		if !hasCode(c.UnsafeReasons, code) {
			add("unsafe[%d] code %s is not an unsafe reason code (known: %s)", i, jsonText(m["code"]), strings.Join(codes(c.UnsafeReasons), ", "))
		}
	}
}

func (c *Comparison) criterionNames() []string {
	names := make([]string, len(c.Criteria))
	for i, cr := range c.Criteria {
		names[i] = cr.Name
	}
	return names
}

func hasCode(list []ReasonCode, code string) bool {
	return slices.ContainsFunc(list, func(r ReasonCode) bool { return r.Code == code })
}

func codes(list []ReasonCode) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Code
	}
	return out
}

// integer reads a JSON number that is a whole number.
func integer(v any) (int, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case int:
		return n, true
	case int64:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, false
	}
	return int(f), true
}

func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// Preference is one pairwise preference a comparison's ranking implies:
// Chosen ranked above Rejected, Margin tiers apart.
type Preference struct {
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
	Margin   int    `json:"margin"`
}

// Preferences lists the pairs a ranking implies, best chosen first. A
// candidate in unsafe is never chosen (an unsafe answer is never the one to
// learn from) and is rejected by every safe candidate: the unsafe are taken
// out of their tiers and put, as one tier, below every safe one (where
// CheckComparison has people rank them), so a safe candidate's margin over
// an unsafe one counts the tiers between them in that order. Ties give no
// preference. In pick_best mode the one tier is preferred to every other
// candidate of ids, with margin 1, before the unsafe are moved last.
func Preferences(mode string, ids []string, tiers [][]string, unsafe map[string]bool) []Preference {
	if mode == ModePickBest && len(tiers) == 1 {
		rest := []string{}
		for _, id := range ids {
			if !slices.Contains(tiers[0], id) {
				rest = append(rest, id)
			}
		}
		tiers = [][]string{tiers[0], rest}
	}
	var safeTiers [][]string
	var last []string
	for _, tier := range tiers {
		var keep []string
		for _, id := range tier {
			if unsafe[id] {
				last = append(last, id)
			} else {
				keep = append(keep, id)
			}
		}
		if len(keep) > 0 {
			safeTiers = append(safeTiers, keep)
		}
	}
	if len(last) > 0 {
		safeTiers = append(safeTiers, last)
	}
	tiers = safeTiers
	var out []Preference
	for i, upper := range tiers {
		for _, chosen := range upper {
			if unsafe[chosen] {
				continue
			}
			for j := i + 1; j < len(tiers); j++ {
				for _, rejected := range tiers[j] {
					out = append(out, Preference{Chosen: chosen, Rejected: rejected, Margin: j - i})
				}
			}
		}
	}
	return out
}

// UnsafeCandidates returns the IDs fields mark unsafe, with their codes.
func UnsafeCandidates(fields Fields) map[string]string {
	out := map[string]string{}
	list, _ := fields[FieldUnsafe].([]any)
	for _, entry := range list {
		if m, ok := entry.(map[string]any); ok {
			id, _ := m["candidate"].(string)
			code, _ := m["code"].(string)
			out[id] = code
		}
	}
	return out
}
