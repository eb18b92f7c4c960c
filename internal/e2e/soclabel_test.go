package e2e

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestSOCLabelProbability: three port-scan alerts of the soc-alert-triage
// example go through the real stack, each drafted false_positive by a fake
// model on the real wire format. Of the first it was sure. At the second's
// label it gave false 0.6 and true (true_positive) 0.35; at the third's,
// false 0.6 and words that begin no label 0.35. Both have the same token
// probability, but only the second's doubt was between labels: its label
// records label_prob 0.6/(0.6+0.35) with a reason naming true_positive, and
// gets a lower confidence than the third's, which records label_prob 1,
// and than the first's, which closes on its own while the second waits for
// an analyst.
func TestSOCLabelProbability(t *testing.T) {
	srv := llmtest.New(t)
	const sure, split, outside = 0, 4, 8 // port scans, per socRules
	srv.Otherwise(func(req openai.ChatCompletionRequest) llmtest.Reply {
		r := socVerdict(req)
		prompt := req.Messages[len(req.Messages)-1].Content
		var others map[string]float64
		switch {
		case strings.Contains(prompt, `"f-burst-0004"`):
			others = map[string]float64{"true": math.Log(0.35)}
		case strings.Contains(prompt, `"f-burst-0008"`):
			others = map[string]float64{"unclear": math.Log(0.2), "unknown": math.Log(0.15)}
		default:
			return r
		}
		if len(r.Choices) == 1 {
			r.Choices[0].TokenLogprobs = map[string]float64{"false": math.Log(0.6)}
			r.Choices[0].Alternatives = map[string]map[string]float64{"false": others}
		}
		return r
	})
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "triage-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	docs := map[int]*api.DocumentView{}
	for _, i := range []int{sure, split, outside} {
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "soc-alert-triage", Content: ocsfAlert(i)})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := u.admin.WaitUntil(ctx, sub.ID, 50*time.Millisecond, func(s countersign.Status) bool {
			return s == countersign.StatusAccepted || s == countersign.StatusAwaitingReview || s == countersign.StatusFailed || s == countersign.StatusRejected
		})
		if err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
		if doc.Draft == nil || doc.Draft.Fields["label"] != "false_positive" {
			t.Fatalf("alert %d: draft %+v, want false_positive", i, doc.Draft)
		}
		docs[i] = doc
	}
	label := func(i int) countersign.FieldScore { return docs[i].Confidence.Fields["label"] }
	for _, i := range []int{sure, split, outside} {
		t.Logf("alert %d: label confidence %v, signals %v, %s", i, label(i).Score, label(i).Signals, docs[i].Status)
	}
	for i, want := range map[int]float64{sure: 1, split: round4(0.6 / 0.95), outside: 1} {
		if got, ok := label(i).Signals[countersign.SignalLabelProb]; !ok || math.Abs(got-want) > 0.002 {
			t.Errorf("alert %d: label signals %v, want label_prob %.4f", i, label(i).Signals, want)
		}
	}
	if tp := label(split).Signals[countersign.SignalTokenProb]; math.Abs(tp-label(outside).Signals[countersign.SignalTokenProb]) > 1e-9 || tp > 0.61 {
		t.Errorf("token probabilities %v and %v: want the same, about 0.6", tp, label(outside).Signals[countersign.SignalTokenProb])
	}
	lp := docs[split].Draft.LabelProb["label"]
	if len(lp.Rival) != 1 || lp.Rival[0] != "true_positive" || math.Abs(lp.RivalProb-0.35/0.95) > 0.002 {
		t.Errorf("label probability on the draft %+v, want true_positive the rival at 0.37", lp)
	}
	if want := `it gave "false_positive" 0.63 of its probability over the labels and "true_positive" 0.37`; !strings.Contains(strings.Join(label(split).Reasons, "; "), want) {
		t.Errorf("label reasons %q, want %q", label(split).Reasons, want)
	}
	if o := docs[outside].Draft.LabelProb["label"]; o.Outside < 0.34 || len(o.Rival) != 0 {
		t.Errorf("label probability %+v for doubt outside the labels, want 0.35 outside and no rival", o)
	}
	if !(label(split).Score < label(outside).Score && label(outside).Score < label(sure).Score) {
		t.Errorf("label confidence: split %v, outside the labels %v, sure %v; want them in that order, rising", label(split).Score, label(outside).Score, label(sure).Score)
	}
	if docs[sure].Status != countersign.StatusAccepted || docs[split].Status != countersign.StatusAwaitingReview || docs[split].Confidence.Weakest != "label" {
		t.Errorf("sure: %s; split: %s, weakest %s (%v)", docs[sure].Status, docs[split].Status, docs[split].Confidence.Weakest, docs[split].Route.Reasons)
	}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
