package report

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
)

// Reviewers is how each person of a task type decides: how often they
// approve, how fast, and how they did on gold items. It is for approvers and
// auditors, who look after the quality of reviews; a reviewer never sees it.
type Reviewers struct {
	TaskType  string     `json:"task_type"`
	Reviewers []Reviewer `json:"reviewers"`
	// GoldSlipped counts the gold documents slipped into the queue; the
	// undecided ones are still waiting there.
	GoldSlipped int `json:"gold_slipped"`
}

// Reviewer is one person's decisions: the gate reviews and audits they
// decided (a veto is a supervisor's override, not a review, and is left
// out), on real documents and gold items alike.
type Reviewer struct {
	User         string  `json:"user"`
	Decisions    int     `json:"decisions"`
	Approved     int     `json:"approved"`
	Corrected    int     `json:"corrected"`
	Rejected     int     `json:"rejected"`
	ApprovalRate float64 `json:"approval_rate"`
	// DecisionSeconds are percentiles of the time from a review's opening
	// to this person's decision: p10, p50, p90.
	DecisionSeconds map[string]float64 `json:"decision_seconds"`
	Gold            GoldScore          `json:"gold"`
	// Signals name what in these figures looks like rubber-stamping; see
	// the Signal constants.
	Signals []string `json:"signals,omitempty"`
}

// GoldScore is how a person did on gold items.
type GoldScore struct {
	Decided int `json:"decided"`
	Right   int `json:"right"`
	// Accuracy is Right/Decided; nil before the first gold decision.
	Accuracy *float64 `json:"accuracy,omitempty"`
	// ApprovedWrong counts gold drafts approved as they were although they
	// differed from the known answer: the plainest sign of a rubber stamp.
	ApprovedWrong int `json:"approved_wrong"`
	// Misses lists the gold decisions that were wrong.
	Misses []GoldMiss `json:"misses,omitempty"`
	// Ranking compares the person's rankings of gold comparison items
	// with their known rankings; nil when they ranked none. (Right and
	// Misses hold such an item to its whole answer: the exact ranking.)
	Ranking *GoldRanking `json:"ranking,omitempty"`
}

// GoldRanking is how close a person's rankings of gold comparison items
// (an answer with a ranking) came to the known rankings, beyond exact
// matches: whether they put the known best first, and Kendall's tau-b
// between their ranking and the known one (ranks as in RankAgreement: a
// candidate a ranking leaves out ranks below all it places).
type GoldRanking struct {
	Items int `json:"items"`
	// BestRight counts the items whose first tier is the known first tier;
	// BestAccuracy is BestRight/Items.
	BestRight    int      `json:"best_right"`
	BestAccuracy *float64 `json:"best_accuracy,omitempty"`
	// TauB is the mean of tau-b over the TauItems items where it is
	// defined; nil when there are none.
	TauItems int      `json:"tau_items"`
	TauB     *float64 `json:"tau_b,omitempty"`
}

// GoldMiss is one wrong decision on a gold item.
type GoldMiss struct {
	DocumentID string             `json:"document_id"`
	Item       string             `json:"item"`
	Action     countersign.Action `json:"action"`
	// Fields are the answer fields the decision got wrong; empty when the
	// decision was to reject (or not to) against the answer.
	Fields []string `json:"fields,omitempty"`
}

// Rubber-stamping signals, and the least evidence each needs.
const (
	// SignalApprovesAll: approves at least ApproveAllRate of at least
	// SignalMinDecisions decisions.
	SignalApprovesAll = "approves_nearly_all"
	// SignalFast: half the decisions take under FastDecision, over at least
	// SignalMinDecisions decisions.
	SignalFast = "decides_in_seconds"
	// SignalApprovedWrongGold: approved a gold draft that was wrong.
	SignalApprovedWrongGold = "approved_wrong_gold"
	// SignalLowGoldAccuracy: right on less than LowGoldAccuracy of at least
	// SignalMinGold gold items.
	SignalLowGoldAccuracy = "low_gold_accuracy"

	SignalMinDecisions = 20
	SignalMinGold      = 5
	ApproveAllRate     = 0.95
	LowGoldAccuracy    = 0.8
	FastDecision       = 10 * time.Second
)

// ReviewerStore is what the reviewers report reads.
type ReviewerStore interface {
	Store
	countersign.GoldStore
}

// BuildReviewers computes the reviewers report of a task type over the
// documents f selects (its TaskType and time range; Gold is ignored).
func BuildReviewers(ctx context.Context, s ReviewerStore, f countersign.DocumentFilter) (*Reviewers, error) {
	out := &Reviewers{TaskType: f.TaskType, Reviewers: []Reviewer{}}
	people := map[string]*reviewerAcc{}
	person := func(user string) *reviewerAcc {
		if people[user] == nil {
			people[user] = &reviewerAcc{Reviewer: Reviewer{User: user}}
		}
		return people[user]
	}
	for _, gold := range []bool{false, true} {
		f.Gold = gold
		err := s.ScanDocuments(ctx, f, func(d *countersign.Document) error {
			var g *countersign.GoldDocument
			if gold {
				out.GoldSlipped++
				var err error
				if g, err = s.GetGold(ctx, d.ID); err != nil {
					return err
				}
			}
			decisions, err := decided(ctx, s, d.ID)
			if err != nil {
				return err
			}
			for _, dec := range decisions {
				p := person(dec.Actor)
				p.add(dec.Decision, dec.took)
				if g != nil {
					p.judge(g, d, dec.Decision)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, user := range slices.Sorted(maps.Keys(people)) {
		out.Reviewers = append(out.Reviewers, people[user].report())
	}
	return out, nil
}

// timedDecision is a decision with the time it took from the review's opening.
type timedDecision struct {
	countersign.Decision
	took time.Duration
}

// decided returns a document's decisions on gate reviews and audits, each
// with how long its review had waited. Decisions on a blind review still
// open count once it closes: counted now, a report narrowed to one
// document would tell what someone decided to whoever may still decide it
// (countersign.Review.Hides).
func decided(ctx context.Context, s Store, documentID string) ([]timedDecision, error) {
	decisions, err := s.Decisions(ctx, documentID)
	if err != nil || len(decisions) == 0 {
		return nil, err
	}
	reviews, err := s.ReviewsForDocument(ctx, documentID)
	if err != nil {
		return nil, err
	}
	opened := map[string]countersign.Review{}
	for _, r := range reviews {
		opened[r.ID] = r
	}
	var out []timedDecision
	for _, d := range decisions {
		r, ok := opened[d.ReviewID]
		if !ok || r.Kind == countersign.ReviewVeto || r.Blind && r.Status == countersign.ReviewPending {
			continue
		}
		out = append(out, timedDecision{Decision: d, took: max(d.At.Sub(r.CreatedAt), 0)})
	}
	return out, nil
}

type reviewerAcc struct {
	Reviewer
	took []time.Duration
	tau  float64
}

func (p *reviewerAcc) add(d countersign.Decision, took time.Duration) {
	p.Decisions++
	switch d.Action {
	case countersign.ActionApprove:
		p.Approved++
	case countersign.ActionCorrect:
		p.Corrected++
	case countersign.ActionReject:
		p.Rejected++
	}
	p.took = append(p.took, took)
}

// judge scores a decision on a gold document against its answer: the
// fields the decision settled on are the draft's when it approved, the
// draft with the correction applied when it corrected.
func (p *reviewerAcc) judge(g *countersign.GoldDocument, doc *countersign.Document, d countersign.Decision) {
	var draft countersign.Fields
	if doc.Draft != nil {
		draft = doc.Draft.Fields
	}
	fields := draft
	if d.Action == countersign.ActionCorrect {
		fields = countersign.Correct(draft, d.Fields)
	}
	right, wrong := g.Judge(d.Action, fields)
	p.Gold.Decided++
	p.judgeRanking(g, doc, d.Action, fields)
	if right {
		p.Gold.Right++
		return
	}
	if d.Action == countersign.ActionApprove {
		p.Gold.ApprovedWrong++
	}
	p.Gold.Misses = append(p.Gold.Misses, GoldMiss{DocumentID: doc.ID, Item: g.Item, Action: d.Action, Fields: wrong})
}

// judgeRanking compares the ranking a decision settled on with a gold
// comparison item's known ranking: the best, and tau-b. A rejection, or
// an answer without a ranking, is not counted here.
func (p *reviewerAcc) judgeRanking(g *countersign.GoldDocument, doc *countersign.Document, action countersign.Action, fields countersign.Fields) {
	known, err := countersign.Tiers(g.Answer[countersign.FieldRanking])
	if err != nil || len(known) == 0 || action == countersign.ActionReject || g.Reject {
		return
	}
	if p.Gold.Ranking == nil {
		p.Gold.Ranking = &GoldRanking{}
	}
	r := p.Gold.Ranking
	r.Items++
	got, err := countersign.Tiers(fields[countersign.FieldRanking])
	if err != nil || len(got) == 0 {
		return
	}
	if sameSet(got[0], known[0]) {
		r.BestRight++
	}
	ids := candidateIDs(doc, known)
	if tau, ok := quality.KendallTauB(ranks(ids, got), ranks(ids, known)); ok {
		r.TauItems++
		p.tau += tau
	}
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(id string) bool { return !slices.Contains(b, id) })
}

func (p *reviewerAcc) report() Reviewer {
	r := p.Reviewer
	r.DecisionSeconds = map[string]float64{}
	for _, q := range []struct {
		name string
		p    float64
	}{{"p10", 10}, {"p50", 50}, {"p90", 90}} {
		if d, ok := quality.Percentile(p.took, q.p); ok {
			r.DecisionSeconds[q.name] = d.Seconds()
		}
	}
	if r.Decisions > 0 {
		r.ApprovalRate = float64(r.Approved) / float64(r.Decisions)
	}
	if r.Gold.Decided > 0 {
		accuracy := float64(r.Gold.Right) / float64(r.Gold.Decided)
		r.Gold.Accuracy = &accuracy
	}
	if g := r.Gold.Ranking; g != nil {
		g.BestAccuracy = ptr(float64(g.BestRight) / float64(g.Items))
		if g.TauItems > 0 {
			g.TauB = ptr(p.tau / float64(g.TauItems))
		}
	}
	if r.Decisions >= SignalMinDecisions && r.ApprovalRate >= ApproveAllRate {
		r.Signals = append(r.Signals, SignalApprovesAll)
	}
	if median, ok := quality.Percentile(p.took, 50); ok && r.Decisions >= SignalMinDecisions && median < FastDecision {
		r.Signals = append(r.Signals, SignalFast)
	}
	if r.Gold.ApprovedWrong > 0 {
		r.Signals = append(r.Signals, SignalApprovedWrongGold)
	}
	if r.Gold.Decided >= SignalMinGold && *r.Gold.Accuracy < LowGoldAccuracy {
		r.Signals = append(r.Signals, SignalLowGoldAccuracy)
	}
	return r
}
