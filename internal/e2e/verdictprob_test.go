package e2e

import (
	"context"
	"os"
	"path/filepath"
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

// hesitantJudge is fakeJudge, but on a prompt that says "unsure" the
// model writes its first-place label with probability 0.55, giving the
// label it ranks second 0.45, on the wire's logprobs and top_logprobs.
func hesitantJudge(req openai.ChatCompletionRequest) llmtest.Reply {
	reply := fakeJudge(req)
	if len(reply.Choices) != 1 || !strings.Contains(req.Messages[len(req.Messages)-1].Content, "unsure") {
		return reply
	}
	answer := reply.Choices[0].Content
	i := strings.Index(answer, `"ranking":["`)
	if i < 0 {
		return llmtest.Fail(500)
	}
	at := i + len(`"ranking":["`)
	// The label ranked second: the one after the first label's `","`.
	second := answer[at+len(`A","`) : at+len(`A","B`)]
	reply.Choices[0].Tokens = llmtest.Doubt(answer, at, 0.55, map[string]float64{second: 0.45})
	return reply
}

// TestJudgeUnsureOfItsVerdict: over the real stack, with
// examples/response-ranking weighing verdict_prob 1 (its default is 0), a
// judge that ranks alike in both orders but wrote its first place with
// probability 0.55 (the rival 0.45) gets verdict_prob 0.55 from the wire
// and a raw score of (schema 1 + position 1 + 0.55) / 3 = 0.85, under the
// example's 0.9: a person ranks the item, told which order was unsure.
// The same judge writing its labels without doubt has verdict_prob 1 and
// its ranking is accepted.
func TestJudgeUnsureOfItsVerdict(t *testing.T) {
	srv := llmtest.New(t)
	srv.Otherwise(hesitantJudge)
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "response-ranking", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, tail, ok := strings.Cut(string(raw), "\npolicy:\n")
	if !ok {
		t.Fatal("examples/response-ranking/tasktype.yaml has no top-level policy: block")
	}
	dir := t.TempDir()
	weighed := head + "\nscoring:\n  weights: {verdict_prob: 1}\npolicy:\n" + tail
	if err := os.WriteFile(filepath.Join(dir, "response-ranking.yaml"), []byte(weighed), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "judge-model", TaskTypesDir: dir}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	submit := func(content string) *api.DocumentView {
		t.Helper()
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "response-ranking", Content: content})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := u.admin.WaitUntil(ctx, sub.ID, 50*time.Millisecond, func(s countersign.Status) bool {
			return s == countersign.StatusAccepted || s == countersign.StatusAwaitingReview || s == countersign.StatusFailed
		})
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	candidates := [][2]string{{"a", "Poor: Sydney."}, {"b", "Excellent: Canberra."}, {"c", "Fair: it is Canberra, I think."}}
	sure := submit(comparisonItem("vp-sure", "general", "What is the capital of Australia?", candidates...))
	unsure := submit(comparisonItem("vp-unsure", "general", "What is the capital of Australia? (unsure)", candidates...))

	for _, r := range srv.Requests() {
		if !r.LogProbs || r.TopLogProbs != 5 {
			t.Fatalf("the judge's request asked logprobs %v, top_logprobs %d; want true, 5", r.LogProbs, r.TopLogProbs)
		}
	}
	rank := unsure.Confidence.Fields[countersign.FieldRanking]
	if unsure.Status != countersign.StatusAwaitingReview || rank.Signals[countersign.SignalVerdictProb] != 0.55 || rank.Signals[countersign.SignalPosition] != 1 ||
		rank.Raw != 0.85 || unsure.Confidence.Overall != 0.85 ||
		!strings.Contains(strings.Join(rank.Reasons, "; "), "in order 1 (shown a,b,c) it gave b 0.55 and c 0.45") ||
		!strings.Contains(strings.Join(rank.Reasons, "; "), "in order 2 (shown c,b,a) it gave b 0.55 and c 0.45") {
		t.Fatalf("the unsure judge: %s %s, overall %v, ranking's score %+v", unsure.Status, unsure.Route.Outcome, unsure.Confidence.Overall, rank)
	}
	if got := unsure.Draft.Orders; len(got) != 2 || len(got[0].FirstPlace) != 1 || got[0].FirstPlace[0].Prob != 0.55 || strings.Join(got[0].FirstPlace[0].Rival, ",") != "c" {
		t.Fatalf("the unsure judge's orders: %+v", got)
	}
	rank = sure.Confidence.Fields[countersign.FieldRanking]
	if sure.Status != countersign.StatusAccepted || rank.Signals[countersign.SignalVerdictProb] != 1 || sure.Confidence.Overall != 1 {
		t.Fatalf("the sure judge: %s %s, overall %v, ranking's score %+v", sure.Status, sure.Route.Outcome, sure.Confidence.Overall, rank)
	}
}
