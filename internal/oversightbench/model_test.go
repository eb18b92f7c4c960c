package oversightbench

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm"
)

// TestModelDraftsThroughTheExtractor runs countersign's own OpenAI
// extractor against the fake model: the wire format must carry each
// sample, the planned values and quotes, the stated probability of each
// value in its logprobs and the runner-up in its top_logprobs.
func TestModelDraftsThroughTheExtractor(t *testing.T) {
	tt := loadTaskType(t)
	g := NewGenerator(21)
	m := NewModel(21, DefaultProfile())
	base := m.Start()
	defer m.Close()
	x := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: base, Model: "fake-claims-1"})
	ctx := context.Background()
	checked := 0
	for i := range 40 {
		n := g.Notice(i)
		m.Add(n)
		draft, err := x.Extract(ctx, tt, &countersign.Document{ID: n.ExternalID, Content: n.Text})
		if err != nil {
			t.Fatalf("notice %d: %v", i, err)
		}
		if draft.Failed() || len(draft.Samples) != 3 {
			t.Fatalf("notice %d: draft %+v; want three usable samples", i, draft)
		}
		for _, fp := range m.Plan(n) {
			value, ok := draft.Fields[fp.Field]
			if !ok || !countersign.Equivalent(value, fp.Value) {
				continue // the other samples outvoted the first
			}
			if q := draft.Evidence[fp.Field].Quote; q != fp.Quote {
				t.Errorf("notice %d %s: quote %q, planned %q", i, fp.Field, q, fp.Quote)
			}
			stated := m.Profile.Stated(fp.Belief)
			if got := draft.TokenProb[fp.Field]; math.Abs(got-stated) > 0.02*stated+1e-4 {
				t.Errorf("notice %d %s: token probability %.4f, stated %.4f", i, fp.Field, got, stated)
			}
			alt, ok := draft.Alternatives[fp.Field]
			if !ok || math.Abs(alt.Mass-(1-stated)) > 2e-4 {
				t.Errorf("notice %d %s: alternatives %+v, want a mass of %.4f", i, fp.Field, alt, 1-stated)
			}
			checked++
		}
	}
	if checked < 200 {
		t.Fatalf("only %d fields drafted as planned", checked)
	}
	if m.Unknown() != 0 {
		t.Fatalf("the model did not recognize %d requests", m.Unknown())
	}
}

func TestModelAnswersTheSameRequestTheSameWay(t *testing.T) {
	n := NewGenerator(2).Notice(7)
	req := openai.ChatCompletionRequest{N: 3, Messages: []openai.ChatCompletionMessage{
		{Role: "system", Content: "extract"},
		{Role: "user", Content: "Fields: ...\nDocument:\n<<<DOCUMENT\n" + n.Text + "\nDOCUMENT>>>"},
	}}
	a, b := NewModel(2, DefaultProfile()), NewModel(2, DefaultProfile())
	a.Add(n)
	b.Add(n)
	first, again, other := a.Reply(req), b.Reply(req), a.Reply(req)
	if !reflect.DeepEqual(first, again) || !reflect.DeepEqual(first, other) {
		t.Fatal("the same request to the same model got different answers")
	}
	if len(first.Choices) != 3 {
		t.Fatalf("%d choices for n=3", len(first.Choices))
	}
	unknown := req
	unknown.Messages = []openai.ChatCompletionMessage{{Role: "user", Content: "<<<DOCUMENT\nnot a notice\nDOCUMENT>>>"}}
	if r := a.Reply(unknown); r.Status != 400 || a.Unknown() != 1 {
		t.Fatalf("a document the model was not given: %+v, unknown %d", r, a.Unknown())
	}
}

// profileDraws plans the fields of many notices.
func profileDraws(seed uint64, notices int, p Profile) (*Model, []*Notice, [][]FieldPlan) {
	g, m := NewGenerator(seed), NewModel(seed, p)
	var ns []*Notice
	var plans [][]FieldPlan
	for i := range notices {
		n := g.Notice(i)
		ns = append(ns, n)
		plans = append(plans, m.Plan(n))
	}
	return m, ns, plans
}

// within fails unless got is within four standard errors of the rate want
// over n draws.
func within(t *testing.T, what string, got float64, want float64, n int) {
	t.Helper()
	se := math.Sqrt(want * (1 - want) / float64(n))
	if math.Abs(got-want) > 4*se {
		t.Errorf("%s: %.4f over %d draws; want %.4f ± %.4f", what, got, n, want, 4*se)
	}
}

// TestErrorProfileRates draws the plans of many notices and holds each
// rate of the profile to what was asked, within sampling error.
func TestErrorProfileRates(t *testing.T) {
	p := DefaultProfile()
	p.LookAlike, p.Misread, p.Missing, p.Invent, p.Confident = 0.05, 0.03, 0.02, 0.3, 0.25
	_, notices, plans := profileDraws(31, 6000, p)
	var (
		lookN, lookK, misN, misK, missN, missK, invN, invK int
		wrongN, confidentK, trueAltN, trueAltK             int
	)
	for i, n := range notices {
		for _, fp := range plans[i] {
			stated, has := n.Stated[fp.Field]
			alikes := len(n.LookAlikes(fp.Field)) > 0
			canMisread := false
			if has {
				_, canMisread = misreadValue(rand.New(rand.NewPCG(1, 2)), fp.Field, stated.Value)
			}
			switch {
			case has && alikes:
				lookN++
				if fp.Error == ErrLookAlike {
					lookK++
					if stated, other := stated.Value, fp.Value; countersign.Equivalent(stated, other) {
						t.Fatalf("a look-alike answer has the true value %v", other)
					}
					if !n.hasMention(FieldKind[fp.Field], fp.Value, fp.Quote) {
						t.Fatalf("look-alike %v quoted %q is not a value the document writes", fp.Value, fp.Quote)
					}
				}
			case !has && alikes:
				invN++
				if fp.Error == ErrInvented {
					invK++
				}
			}
			if has && fp.Error != ErrLookAlike && canMisread {
				misN++
				if fp.Error == ErrMisread {
					misK++
					if fp.Quote != stated.Text || countersign.Equivalent(fp.Value, stated.Value) {
						t.Fatalf("misread %v quoting %q; want another value quoting the true text %q", fp.Value, fp.Quote, stated.Text)
					}
				}
			}
			if has && fp.Error != ErrLookAlike && fp.Error != ErrMisread {
				missN++
				if fp.Error == ErrMissing {
					missK++
				}
			}
			if fp.Error != "" && fp.Error != ErrMissing {
				wrongN++
				if fp.Confident {
					confidentK++
				} else {
					trueAltN++
					if has && countersign.Equivalent(fp.RunnerUp, stated.Value) || !has && fp.RunnerUp == nil {
						trueAltK++
					}
				}
			}
		}
	}
	within(t, "look-alike rate among fields with a look-alike", float64(lookK)/float64(lookN), p.LookAlike, lookN)
	within(t, "misread rate among readable fields not answered with a look-alike", float64(misK)/float64(misN), p.Misread, misN)
	within(t, "invented rate among unstated fields with a look-alike", float64(invK)/float64(invN), p.Invent, invN)
	within(t, "share of wrong answers given confidently", float64(confidentK)/float64(wrongN), p.Confident, wrongN)
	within(t, "share of the other wrong answers with the truth as runner-up", float64(trueAltK)/float64(trueAltN), p.TrueAlternative, trueAltN)
	within(t, "missing rate among stated fields not otherwise wrong", float64(missK)/float64(missN), p.Missing, missN)
}

// hasMention reports whether the notice writes a value of kind as text.
func (n *Notice) hasMention(kind Kind, value any, text string) bool {
	for _, m := range n.Mentions[kind] {
		if countersign.Equivalent(m.Value, value) && m.Text == text {
			return true
		}
	}
	return false
}

// TestBeliefsAreInformativeButOverconfident: the stated probability ranks
// right answers above wrong ones (AUC well above one half, not perfect:
// confident errors), and in every band of stated probability fewer answers
// are right than it states.
func TestBeliefsAreInformativeButOverconfident(t *testing.T) {
	m, notices, plans := profileDraws(41, 4000, DefaultProfile())
	type scored struct {
		p     float64
		right bool
	}
	var all []scored
	rightN := 0
	edges := []float64{0, 0.5, 0.8, 0.9, 0.99, 0.999, 1.0001}
	type band struct {
		n, right int
		sum      float64
	}
	bands := make([]band, len(edges)-1)
	for i, n := range notices {
		for _, fp := range plans[i] {
			if fp.Value == nil {
				continue
			}
			right := n.Reject == "" && countersign.Equivalent(fp.Value, n.Truth[fp.Field]) || n.Reject != "" && fp.Error == ""
			s := scored{m.Profile.Stated(fp.Belief), right}
			all = append(all, s)
			if right {
				rightN++
			}
			b := sort.SearchFloat64s(edges, s.p)
			if b == len(edges) || edges[b] > s.p {
				b--
			}
			bands[b].n++
			bands[b].sum += s.p
			if right {
				bands[b].right++
			}
		}
	}
	for b, x := range bands {
		if x.n < 100 {
			continue
		}
		stated, accuracy := x.sum/float64(x.n), float64(x.right)/float64(x.n)
		if accuracy >= stated {
			t.Errorf("stated probability in [%.3f, %.3f): mean %.4f, right %.4f of %d; want overconfident", edges[b], edges[b+1], stated, accuracy, x.n)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].p < all[j].p })
	var rightRanks float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].p == all[i].p {
			j++
		}
		rank := float64(i+j+1) / 2 // the mid-rank of ties
		for k := i; k < j; k++ {
			if all[k].right {
				rightRanks += rank
			}
		}
		i = j
	}
	wrongN := len(all) - rightN
	auc := (rightRanks - float64(rightN)*float64(rightN+1)/2) / (float64(rightN) * float64(wrongN))
	if auc < 0.75 || auc > 0.97 {
		t.Errorf("AUC of the stated probability %.3f; want informative (above 0.75) but not perfect (confident errors)", auc)
	}
}

// TestSamplesAgreeAsTheBeliefSays: samples after the first give the
// planned value at the rate of the model's belief in it.
func TestSamplesAgreeAsTheBeliefSays(t *testing.T) {
	m, notices, plans := profileDraws(51, 1500, DefaultProfile())
	var want, got float64
	draws := 0
	for i, n := range notices {
		r := m.rand(n, "samples")
		for k := 1; k < 3; k++ {
			c := m.sample(plans[i], k, r)
			var answer map[string]*struct {
				Value any `json:"value"`
			}
			if err := json.Unmarshal([]byte(c.Content), &answer); err != nil {
				t.Fatal(err)
			}
			for _, fp := range plans[i] {
				draws++
				want += fp.Belief
				a := answer[fp.Field]
				if a == nil && fp.Value == nil || a != nil && countersign.Equivalent(a.Value, fp.Value) {
					got++
				}
			}
		}
	}
	if math.Abs(got/float64(draws)-want/float64(draws)) > 0.01 {
		t.Errorf("samples gave the planned value %.4f of the time; the mean belief is %.4f", got/float64(draws), want/float64(draws))
	}
}

// TestProfileLeavesTheGoalsReachable ranks documents by what the model's
// beliefs say at best (the posterior that every field is right, knowing the
// profile), with confident errors taken as undetectable: at a 5% budget
// that ranking must come within 10 points of the perfect oracle, or the
// benchmark's first goal would be out of any engine's reach; at 1% it must
// not, since there the confident errors have to be found by other signals.
func TestProfileLeavesTheGoalsReachable(t *testing.T) {
	p := DefaultProfile()
	_, notices, plans := profileDraws(77, 3000, p)
	density := func(x, mean, spread float64) float64 {
		z := (x - mean) / spread
		return math.Exp(-z*z/2) / spread
	}
	var docs []Scored
	wrong := 0
	for i, n := range notices {
		right, logp := n.Reject == "", 0.0
		for _, fp := range plans[i] {
			truth, has := n.Truth[fp.Field]
			if fp.Value == nil && has || fp.Value != nil && !countersign.Equivalent(fp.Value, truth) {
				right = false
			}
			switch {
			case fp.Value == nil && (fp.Field == "amount_claimed" || fp.Field == "currency"):
				// Optional: null is an answer like any other.
			case fp.Value == nil:
				logp += math.Log(0.01) // a missing required value: a person fills it in
			default:
				x := logit(fp.Belief)
				r := density(x, p.RightLogit, p.RightSpread)
				w := (1-p.Confident)*density(x, p.WrongLogit, p.WrongSpread) + p.Confident*r
				logp += math.Log(0.97 * r / (0.97*r + 0.03*w))
			}
		}
		if !right {
			wrong++
		}
		docs = append(docs, Scored{Confidence: math.Exp(logp), Wrong: !right})
	}
	perfect5, best5 := PerfectShare(len(docs), wrong, 0.05), BestThreshold(docs, 0.05).ReviewShare
	if best5 > perfect5+0.10 {
		t.Errorf("at 5%%: the best ranking on beliefs sends %.3f to people, the perfect oracle %.3f", best5, perfect5)
	}
	perfect1, best1 := PerfectShare(len(docs), wrong, 0.01), BestThreshold(docs, 0.01).ReviewShare
	if best1 < perfect1+0.3 {
		t.Errorf("at 1%%: the best ranking on beliefs sends %.3f to people, the perfect oracle %.3f; the confident errors no longer need other signals", best1, perfect1)
	}
	t.Logf("%d documents, %.3f wrong; 5%%: perfect %.3f, beliefs %.3f; 1%%: perfect %.3f, beliefs %.3f", len(docs), float64(wrong)/float64(len(docs)), perfect5, best5, perfect1, best1)
}
