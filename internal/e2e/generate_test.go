package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// generatedRanking writes the example response-ranking task type, renamed,
// with two generators into a folder of task types: "small" makes two
// candidates at temperature 0.3 with seeds 11 and 12 on the worker's
// endpoint; "big" makes two at 0.9 on its own base URL with its own key.
func generatedRanking(t *testing.T, bigURL string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "response-ranking", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(raw), "name: response-ranking", "name: generated-ranking", 1)
	gens := "  judge_orders: 2\n  generators:\n" +
		"    - {name: small, model: gen-small, temperature: 0.3, seed: 11, count: 2, max_output_tokens: 200}\n" +
		"    - {name: big, model: gen-big, temperature: 0.9, count: 2, base_url: '" + bigURL + "', api_key_env: GEN_BIG_KEY}\n"
	if !strings.Contains(src, "  judge_orders: 2\n") {
		t.Fatal("the example has no judge_orders line to add generators after")
	}
	src = strings.Replace(src, "  judge_orders: 2\n", gens, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "generated.yaml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGeneratedCandidates: an item submitted with a prompt and no
// candidates gets four from two generators at two temperatures, over real
// HTTP to a fake OpenAI-compatible endpoint, each recorded with its model
// and parameters (in the draft and in a candidates.generated audit event
// with its response's hash). The judge fails once after the candidates
// were stored; the retry judges the same candidates without asking the
// generators again. The judge ties the two best, so a person ranks the
// item, and the exports carry each candidate's model and parameters. A
// generator that fails for good sends its item to a person with a draft
// error naming the generator; an item of one candidate is refused at
// intake, since submitted and generated candidates do not mix.
func TestGeneratedCandidates(t *testing.T) {
	t.Setenv("GEN_BIG_KEY", "sk-big")
	srv := llmtest.New(t)
	var judged, generated atomic.Int32
	srv.Otherwise(func(req openai.ChatCompletionRequest) llmtest.Reply {
		if req.ResponseFormat != nil {
			if judged.Add(1) == 1 {
				return llmtest.Fail(503) // once: the activity is retried
			}
			return fakeJudge(req)
		}
		generated.Add(1)
		prompt := req.Messages[len(req.Messages)-1].Content
		switch {
		case req.Model == "gen-big" && strings.Contains(prompt, "unanswerable"):
			return llmtest.Fail(400)
		case req.Model == "gen-big":
			return llmtest.Answer(fmt.Sprintf("Excellent: Canberra (big, t=%.1f).", req.Temperature))
		case req.Seed != nil && *req.Seed%2 == 1:
			return llmtest.Answer(fmt.Sprintf("Fair: Canberra, I think (seed %d).", *req.Seed))
		}
		return llmtest.Answer("Poor: Sydney.")
	})
	a := startAppWith(t, config.Config{TaskTypesDir: generatedRanking(t, srv.BaseURL()), OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "judge-model", OpenAIKey: "sk-worker"},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const tt = "generated-ranking"

	one := `{"id":"mix","prompt":"Hi?","candidates":[{"id":"a","response":"Hello."}]}`
	if _, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: tt, Content: one}); status(err) != 422 || !strings.Contains(err.Error(), "submitted and generated candidates do not mix") {
		t.Fatalf("an item of one candidate: %v, want 422 saying candidates do not mix", err)
	}
	// A prompt-only item with a prelabel: the prelabel would be the draft,
	// ranking candidates the generators never made.
	prelabeled := api.SubmitRequest{TaskType: tt, Content: `{"id":"pre","prompt":"Hi?"}`, Prelabel: &countersign.Prelabel{Fields: countersign.Fields{"ranking": []any{"warm-1"}}}}
	if _, err := u.submitter.Submit(ctx, prelabeled); status(err) != 422 || !strings.Contains(err.Error(), "cannot come with a prelabel") {
		t.Fatalf("a prompt-only item with a prelabel: %v, want 422 saying it cannot come with one", err)
	}

	const prompt = "What is the capital of Australia?"
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: tt, Content: `{"id":"gen-1","category":"general","prompt":"` + prompt + `"}`})
	if err != nil {
		t.Fatal(err)
	}
	routed := func(s countersign.Status) bool {
		return s == countersign.StatusAccepted || s == countersign.StatusAwaitingReview || s == countersign.StatusFailed
	}
	doc, err := u.admin.WaitUntil(ctx, sub.ID, 50*time.Millisecond, routed)
	if err != nil {
		t.Fatal(err)
	}

	// Four generation requests, each as configured, and no more: the retry
	// after the judge's 503 judged the stored candidates.
	var gens []openai.ChatCompletionRequest
	var auths []string
	authz := srv.Authorizations()
	for i, r := range srv.Requests() {
		if r.ResponseFormat == nil {
			gens = append(gens, r)
			auths = append(auths, authz[i])
		}
	}
	if len(gens) != 4 || generated.Load() != 4 || judged.Load() != 3 {
		t.Fatalf("%d generation requests (%d answered), %d judge requests; want 4, and 1 failed + 2 orders", len(gens), generated.Load(), judged.Load())
	}
	var asked []string
	for i, r := range gens {
		seed := "-"
		if r.Seed != nil {
			seed = fmt.Sprint(*r.Seed)
		}
		asked = append(asked, fmt.Sprintf("%s t=%.1f seed=%s max=%d %s", r.Model, r.Temperature, seed, r.MaxCompletionTokens, auths[i]))
		if len(r.Messages) != 1 || r.Messages[0].Role != "user" || r.Messages[0].Content != prompt {
			t.Fatalf("generation request %d: %+v", i, r.Messages)
		}
	}
	want := []string{"gen-small t=0.3 seed=11 max=200 Bearer sk-worker", "gen-small t=0.3 seed=12 max=200 Bearer sk-worker", "gen-big t=0.9 seed=- max=0 Bearer sk-big", "gen-big t=0.9 seed=- max=0 Bearer sk-big"}
	if !slices.Equal(asked, want) {
		t.Fatalf("generation requests:\n%s\nwant\n%s", strings.Join(asked, "\n"), strings.Join(want, "\n"))
	}

	// The candidates, with their lineage, in the draft.
	var lineage []string
	for _, c := range doc.Draft.Candidates {
		params, _ := json.Marshal(c.Params)
		lineage = append(lineage, fmt.Sprintf("%s %s %s", c.ID, c.Model, params))
	}
	wantLineage := []string{
		`small-1 gen-small {"generator":"small","max_output_tokens":200,"seed":11,"temperature":0.3}`,
		`small-2 gen-small {"generator":"small","max_output_tokens":200,"seed":12,"temperature":0.3}`,
		`big-1 gen-big {"generator":"big","temperature":0.9}`,
		`big-2 gen-big {"generator":"big","temperature":0.9}`,
	}
	if !slices.Equal(lineage, wantLineage) {
		t.Fatalf("the draft's candidates:\n%s\nwant\n%s", strings.Join(lineage, "\n"), strings.Join(wantLineage, "\n"))
	}

	// The audit trail names each candidate's model, parameters and
	// response hash, before the draft.
	events, err := u.admin.Audit(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
		if e.Type != countersign.EventCandidatesGenerated {
			continue
		}
		var data struct {
			Candidates []struct {
				ID             string
				Model          string
				ResponseSHA256 string `json:"response_sha256"`
				Params         map[string]any
			}
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		if len(data.Candidates) != 4 {
			t.Fatalf("candidates.generated: %s", e.Data)
		}
		for i, c := range data.Candidates {
			sum := sha256.Sum256([]byte(doc.Draft.Candidates[i].Response))
			if c.ID != doc.Draft.Candidates[i].ID || c.Model != doc.Draft.Candidates[i].Model || c.Params["generator"] == nil || c.ResponseSHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("candidates.generated candidate %d: %s", i, e.Data)
			}
		}
	}
	if i, j := slices.Index(types, countersign.EventCandidatesGenerated), slices.Index(types, countersign.EventDraftCreated); i < 0 || j < i || strings.Count(strings.Join(types, ","), countersign.EventCandidatesGenerated) != 1 {
		t.Fatalf("audit events %v: want one candidates.generated before draft.created", types)
	}

	// The judge saw the generated responses, in two orders, and tied the
	// two big ones: a person ranks the item.
	if len(doc.Draft.Orders) != 2 || doc.Status != countersign.StatusAwaitingReview ||
		!strings.Contains(strings.Join(doc.Confidence.Reasons, "; "), "the judge ranked big-1 and big-2 equal") {
		t.Fatalf("judged: %s, orders %+v, ranking %v, reasons %v", doc.Status, doc.Draft.Orders, doc.Draft.Fields["ranking"], doc.Confidence.Reasons)
	}
	// Decisions are checked against the generated candidates.
	if _, err := u.reviewer.Decide(ctx, doc.Review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"ranking": []any{"big-1", "a"}}}); status(err) != 422 || !strings.Contains(err.Error(), `ranking names "a", which is not a candidate of this item (small-1, small-2, big-1, big-2)`) {
		t.Fatalf("a ranking of other candidates: %v", err)
	}
	if _, err := u.reviewer.Decide(ctx, doc.Review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Reason: "big-2 is clearer",
		Fields: countersign.Fields{"ranking": []any{"big-2", "big-1", "small-1", "small-2"}}}); err != nil {
		t.Fatal(err)
	}
	doc = waitForFinal(t, u.admin, doc.ID)
	if doc.Status != countersign.StatusAccepted || fmt.Sprint(doc.Final.Fields["ranking"]) != "[big-2 big-1 small-1 small-2]" {
		t.Fatalf("the person's ranking: %s %v", doc.Status, doc.Final.Fields)
	}

	// The exports carry each candidate's model and parameters.
	export := func(format string) []map[string]any {
		t.Helper()
		var out bytes.Buffer
		if _, err := u.auditor.Export(ctx, url.Values{"format": {format}, "task_type": {tt}}, &out, nil); err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		return lines
	}
	ranked := export("ranked")
	if len(ranked) != 1 {
		t.Fatalf("%d ranked lines, want 1", len(ranked))
	}
	var exported []string
	for _, c := range ranked[0]["candidates"].([]any) {
		m := c.(map[string]any)
		params, _ := json.Marshal(m["params"])
		exported = append(exported, fmt.Sprintf("%s %s %s", m["id"], m["model"], params))
	}
	if !slices.Equal(exported, wantLineage) {
		t.Fatalf("ranked export candidates:\n%s\nwant\n%s", strings.Join(exported, "\n"), strings.Join(wantLineage, "\n"))
	}
	pairs := export("pairwise")
	if len(pairs) != 6 {
		t.Fatalf("%d pairwise lines, want 6", len(pairs))
	}
	for _, l := range pairs {
		if l["chosen_id"] == "big-2" && l["rejected_id"] == "small-2" && (l["chosen_model"] != "gen-big" || l["rejected_model"] != "gen-small" || l["prompt"] != prompt) {
			t.Fatalf("pairwise line: %v", l)
		}
	}

	// A generator that fails for good: the item goes to a person, the
	// draft naming the generator.
	sub, err = u.submitter.Submit(ctx, api.SubmitRequest{TaskType: tt, Content: `{"id":"gen-2","prompt":"An unanswerable question?"}`})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := u.admin.WaitUntil(ctx, sub.ID, 50*time.Millisecond, routed)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != countersign.StatusAwaitingReview || failed.Draft == nil || len(failed.Draft.Candidates) != 0 ||
		!strings.Contains(failed.Draft.Error, "generating the candidates: generator big (model gen-big), candidate big-1: the model endpoint answered 400") {
		t.Fatalf("a generator failing for good: %s, draft %+v", failed.Status, failed.Draft)
	}
}
