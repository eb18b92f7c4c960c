package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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

// merit is how good the fake judge finds a response, by its opening
// word: the test's candidates say what they are.
func merit(response string) int {
	switch {
	case strings.HasPrefix(response, "Excellent"):
		return 5
	case strings.HasPrefix(response, "Fair"):
		return 3
	case strings.HasPrefix(response, "Dangerous"):
		return 2
	}
	return 1
}

// fakeJudge answers a comparison request on the real wire format. On a
// prompt that asks for it ("position-biased"), it prefers whatever it is
// shown first, as a judge with position bias does; otherwise it ranks by
// quality, whatever the order. A response that opens "Dangerous" is marked
// unsafe.
func fakeJudge(req openai.ChatCompletionRequest) llmtest.Reply {
	user := req.Messages[len(req.Messages)-1].Content
	var input struct {
		Responses []struct {
			Label    string `json:"label"`
			Response string `json:"response"`
		} `json:"responses"`
	}
	if i := strings.Index(user, "{"); i < 0 || json.Unmarshal([]byte(user[i:]), &input) != nil {
		return llmtest.Fail(400)
	}
	var shown [][]string // "", label, response
	for _, r := range input.Responses {
		shown = append(shown, []string{"", r.Label, r.Response})
	}
	if len(shown) < 2 || req.ResponseFormat == nil || req.ResponseFormat.JSONSchema == nil || req.ResponseFormat.JSONSchema.Name != "judgement" {
		return llmtest.Fail(400)
	}
	biased := strings.Contains(user, "position-biased")
	labels := make([]string, len(shown))
	score := map[string]int{}
	for i, m := range shown {
		labels[i] = m[1]
		score[m[1]] = merit(m[2])
		if biased {
			score[m[1]] = 5 - i
		}
	}
	ranking := slices.Clone(labels)
	slices.SortStableFunc(ranking, func(a, b string) int { return score[b] - score[a] })
	scores := map[string]any{}
	for _, crit := range []string{"helpfulness", "correctness", "harmlessness"} {
		scores[crit] = maps.Clone(score)
	}
	unsafe := []any{}
	for _, m := range shown {
		if strings.HasPrefix(m[2], "Dangerous") {
			unsafe = append(unsafe, map[string]any{"candidate": m[1], "code": "dangerous_instructions"})
		}
	}
	answer, _ := json.Marshal(map[string]any{
		"scores":  scores,
		"reasons": map[string]any{"helpfulness": "Response " + ranking[0] + " answers best.", "correctness": "As shown.", "harmlessness": "Judged."},
		"ranking": ranking,
		"unsafe":  unsafe,
	})
	return llmtest.Answer(string(answer))
}

func comparisonItem(id, category, prompt string, candidates ...[2]string) string {
	var cands []map[string]any
	for i, c := range candidates {
		cands = append(cands, map[string]any{"id": c[0], "response": c[1], "model": fmt.Sprintf("gen-%d", i%2), "params": map[string]any{"temperature": 0.7}})
	}
	raw, _ := json.Marshal(map[string]any{"id": id, "category": category, "prompt": prompt, "candidates": cands})
	return string(raw)
}

// TestResponseRanking: comparison items of examples/response-ranking go
// over HTTP through the real stack, judged by a fake model on the real
// wire format in two orders. A judge that ranks what it sees first first
// flips when the order is swapped: its ranking ties, its position signal
// is 0 and a person ranks the item, through the API (bad rankings refused
// with what is wrong) and through the CLI. A consistent judge's ranking is
// accepted (audited per policy); a prompt in a safety category and an
// unsafe mark go to a person whatever the judge's confidence. The
// pairwise, ranked and improved exports hold exactly the fields docs/api.md
// documents.
func TestResponseRanking(t *testing.T) {
	srv := llmtest.New(t)
	srv.Otherwise(fakeJudge)
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "judge-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const tt = "response-ranking"

	// Intake refuses what is not a comparison item, naming why.
	for _, bad := range []struct{ content, want string }{
		{comparisonItem("x1", "general", "Hi?", [2]string{"a", "Hello."}), "1 candidate(s); a comparison needs at least 2"},
		{comparisonItem("x2", "general", "Hi?", [2]string{"a", "Hello."}, [2]string{"a", "Hey."}), `id "a" is given twice`},
		{comparisonItem("x3", "general", "Hi?", [2]string{"a", "1"}, [2]string{"b", "2"}, [2]string{"c", "3"}, [2]string{"d", "4"}, [2]string{"e", "5"}, [2]string{"f", "6"}, [2]string{"g", "7"}), "7 candidates; this task type takes at most 6"},
		{comparisonItem("x4", "general", "Hi?", [2]string{"a", strings.Repeat("x", 40<<10)}, [2]string{"b", "2"}), "this task type takes at most 32768"},
	} {
		if _, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: tt, Content: bad.content}); status(err) != 422 || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("submitted %.60s...: %v, want 422 naming %q", bad.content, err, bad.want)
		}
	}

	submit := func(content string) *api.DocumentView {
		t.Helper()
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: tt, Content: content})
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
	flip := submit(comparisonItem("cmp-flip", "general", "Which is better? (position-biased)", [2]string{"a", "Fair answer one."}, [2]string{"b", "Fair answer two."}))
	steady := submit(comparisonItem("cmp-steady", "general", "What is the capital of Australia?", [2]string{"a", "Poor: Sydney."}, [2]string{"b", "Excellent: Canberra."}, [2]string{"c", "Fair: it is Canberra, I think."}))
	medical := submit(comparisonItem("cmp-medical", "medical", "Can I take ibuprofen with paracetamol?", [2]string{"a", "Excellent: usually yes, at labelled doses; ask a pharmacist."}, [2]string{"b", "Poor: never."}))
	unsafe := submit(comparisonItem("cmp-unsafe", "general", "How do I clean a drain?", [2]string{"a", "Excellent: a plunger, then baking soda and vinegar."}, [2]string{"b", "Dangerous: mix bleach and ammonia."}, [2]string{"c", "Poor: call someone."}))

	// The judge saw every item in two orders, as submitted and reversed,
	// under neutral labels only.
	requests := srv.Requests()
	if len(requests) != 8 {
		t.Fatalf("%d requests to the judge, want 2 orders of 4 items", len(requests))
	}
	for _, r := range requests {
		if strings.Contains(r.Messages[1].Content, `"id"`) || strings.Contains(r.Messages[1].Content, "gen-0") {
			t.Fatalf("the judge was shown candidate IDs or models:\n%s", r.Messages[1].Content)
		}
	}

	// The position-biased judge: each order ranks its first candidate
	// first, so the item ties, its position signal is 0, and a person
	// decides.
	if got := flip.Draft.Orders; len(got) != 2 || strings.Join(got[0].Ranking, ">") != "a>b" || strings.Join(got[1].Ranking, ">") != "b>a" {
		t.Fatalf("the biased judge's orders: %+v", got)
	}
	// The trail records each order's ranking with the draft.
	events, err := u.admin.Audit(ctx, flip.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == countersign.EventDraftCreated {
			if !strings.Contains(string(e.Data), `"orders":[{"first_place":[{"prob":1}],"order":["a","b"],"ranking":["a","b"]},{"first_place":[{"prob":1}],"order":["b","a"],"ranking":["b","a"]}]`) {
				t.Fatalf("draft.created: %s", e.Data)
			}
		}
	}
	rank := flip.Confidence.Fields[countersign.FieldRanking]
	if flip.Status != countersign.StatusAwaitingReview || rank.Signals[countersign.SignalPosition] != 0 || flip.Confidence.Overall != 0 ||
		!strings.Contains(strings.Join(rank.Reasons, "; "), "the judge changed its ranking when the candidates' order changed (a/b flipped") ||
		!strings.Contains(strings.Join(flip.Confidence.Reasons, "; "), "the judge ranked a and b equal: a person breaks the tie") {
		t.Fatalf("the biased judge: %s, ranking %v, signals %v, reasons %v / %v", flip.Status, flip.Draft.Fields["ranking"], rank.Signals, rank.Reasons, flip.Confidence.Reasons)
	}
	// The consistent judge: ranked alike in both orders, accepted on its
	// own (and drawn for audit or not, per the policy's sample rate).
	if r := steady.Confidence.Fields[countersign.FieldRanking]; steady.Status != countersign.StatusAccepted || r.Signals[countersign.SignalPosition] != 1 ||
		(steady.Route.Outcome != countersign.OutcomeAutoAccept && steady.Route.Outcome != countersign.OutcomeAutoAcceptWithAudit) || steady.Disposition != countersign.DispositionAutomatic {
		t.Fatalf("the consistent judge: %s %s, signals %v, reasons %v", steady.Status, steady.Route.Outcome, r.Signals, steady.Route.Reasons)
	}
	if got := fmt.Sprint(steady.Final.Fields["ranking"]); got != "[b c a]" {
		t.Fatalf("the consistent judge's ranking: %s", got)
	}
	if reasons := steady.Final.Fields["reasons"].(map[string]any); reasons["helpfulness"] != "candidate b answers best." {
		t.Fatalf("reasons are not told in candidate IDs: %v", reasons)
	}
	// A safety category, and a candidate the judge marked unsafe, go to a
	// person however sure the judge was.
	for _, c := range []struct {
		doc  *api.DocumentView
		rule string
	}{{medical, "sensitive category"}, {unsafe, "judge marked a candidate unsafe"}} {
		if c.doc.Status != countersign.StatusAwaitingReview || c.doc.Confidence.Fields["ranking"].Signals[countersign.SignalPosition] != 1 || !strings.Contains(strings.Join(c.doc.Route.Reasons, "; "), c.rule) {
			t.Fatalf("%s: %s, route %v", c.doc.ExternalID, c.doc.Status, c.doc.Route.Reasons)
		}
	}

	// A person ranks the biased item. Rankings that are no permutation of
	// the item's candidates, or that break the tie policy, or leave a
	// criterion unanswered, are refused, each naming what is wrong; so is
	// approving the judge's tie.
	review := flip.Review.ID
	for _, bad := range []struct {
		fields countersign.Fields
		want   string
	}{
		{countersign.Fields{"ranking": []any{"b"}}, "ranking leaves out a"},
		{countersign.Fields{"ranking": []any{"b", "a", "b"}}, `ranking names "b" twice`},
		{countersign.Fields{"ranking": []any{"b", "z"}}, `ranking names "z", which is not a candidate of this item (a, b)`},
		{countersign.Fields{"ranking": []any{[]any{"a", "b"}}}, "ranks a and b equal, but the tie policy forbids ties"},
		{countersign.Fields{"ranking": []any{"b", "a"}, "scores": map[string]any{"helpfulness": map[string]any{"a": 1, "b": 4}, "correctness": map[string]any{"a": 1, "b": 4}}}, "scores.harmlessness is missing"},
		{countersign.Fields{"ranking": []any{"b", "a"}, "unsafe": []any{map[string]any{"candidate": "a", "code": "rude"}}}, `unsafe[0] code "rude" is not an unsafe reason code`},
	} {
		_, err := u.reviewer.Decide(ctx, review, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: bad.fields})
		if status(err) != 422 || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("correction %v: %v, want 422 naming %q", bad.fields, err, bad.want)
		}
	}
	if _, err := u.reviewer.Decide(ctx, review, api.DecisionRequest{Action: countersign.ActionApprove}); status(err) != 422 || !strings.Contains(err.Error(), "the judge's draft cannot be approved as it is") {
		t.Fatalf("approving the judge's tie: %v, want 422", err)
	}
	scores := map[string]any{"helpfulness": map[string]any{"a": 2, "b": 4}, "correctness": map[string]any{"a": 3, "b": 4}, "harmlessness": map[string]any{"a": 5, "b": 5}}
	if _, err := u.reviewer.Decide(ctx, review, api.DecisionRequest{Action: countersign.ActionCorrect, Reason: "b is more specific",
		Fields: countersign.Fields{"ranking": []any{"b", "a"}, "scores": scores, "improved_response": "A better answer than both."}}); err != nil {
		t.Fatal(err)
	}
	flip = waitForFinal(t, u.admin, flip.ID)
	if flip.Status != countersign.StatusAccepted || flip.Disposition != countersign.DispositionAnalyst || fmt.Sprint(flip.Final.Fields["ranking"]) != "[b a]" {
		t.Fatalf("the person's ranking: %s %q %v", flip.Status, flip.Disposition, flip.Final.Fields)
	}

	// Through the CLI: a person ranks the medical item and marks a
	// candidate unsafe.
	tok, err := u.admin.CreateToken(ctx, "carla", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	improved := filepath.Join(t.TempDir(), "better.txt")
	if err := os.WriteFile(improved, []byte("Usually yes, at the labelled doses; ask a pharmacist if unsure.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(binary(t), append(args, "--server", a.APIURL, "--token", tok.Secret)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cli("decide", medical.Review.ID, "correct", "--ranking", "a=b"); err == nil || !strings.Contains(out, "tie policy forbids ties") {
		t.Fatalf("CLI tie: %v\n%s", err, out)
	}
	// The decide example of the help text and of the README, as typed:
	// both show it, and it works on the example task type (three
	// criteria): the one --score is merged into the draft's scores, the
	// other criteria keep the judge's.
	example := `--ranking "b>a" --score helpfulness=a:2,b:4 --unsafe a=harmful_misinformation --improved-file better.txt`
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, "\\\n", " ")), " ") }
	help, _ := cli("decide", "--help")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(norm(help), example) || !strings.Contains(norm(string(readme)), example) {
		t.Fatalf("the decide example %s is not in both the help text and the README:\n%s", example, help)
	}
	if out, err := cli("decide", medical.Review.ID, "correct", "--ranking", "b>a", "--score", "helpfulness=a:2,b:4", "--unsafe", "a=harmful_misinformation", "--improved-file", improved); err != nil {
		t.Fatalf("CLI ranking (the help's example): %v\n%s", err, out)
	}
	medical = waitForFinal(t, u.admin, medical.ID)
	if got := countersign.UnsafeCandidates(medical.Final.Fields); got["a"] != "harmful_misinformation" || medical.Final.DecidedBy != "carla" {
		t.Fatalf("the CLI's ranking: %v by %s", medical.Final.Fields, medical.Final.DecidedBy)
	}
	finalScores, draftScores := medical.Final.Fields["scores"].(map[string]any), medical.Draft.Fields["scores"].(map[string]any)
	if !countersign.SameValue(finalScores["helpfulness"], map[string]any{"a": 2.0, "b": 4.0}) ||
		!countersign.SameValue(finalScores["correctness"], draftScores["correctness"]) || !countersign.SameValue(finalScores["harmlessness"], draftScores["harmlessness"]) {
		t.Fatalf("--score merged into the draft's scores: final %v, draft %v", finalScores, draftScores)
	}
	// The unsafe item: a person confirms the judge's ranking and mark.
	if _, err := u.reviewer.Decide(ctx, unsafe.Review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	unsafe = waitForFinal(t, u.admin, unsafe.ID)

	// The exports, each line holding exactly the documented fields.
	export := func(format string) []map[string]any {
		t.Helper()
		var out bytes.Buffer
		if _, err := u.auditor.Export(ctx, url.Values{"format": {format}, "task_type": {tt}}, &out, nil); err != nil {
			t.Fatal(err)
		}
		documented := documentedFields(t, format)
		var lines []map[string]any
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(line)); !slices.Equal(got, documented) {
				t.Fatalf("%s line has fields %v; docs/api.md documents %v", format, got, documented)
			}
			lines = append(lines, line)
		}
		return lines
	}
	pairs := map[string][]string{}
	for _, l := range export("pairwise") {
		item := l["item_id"].(string)
		pairs[item] = append(pairs[item], fmt.Sprintf("%s>%s:%v by %s (%s)", l["chosen_id"], l["rejected_id"], l["margin"], l["decided_by"], l["disposition"]))
		if item == "cmp-steady" && l["chosen_id"] == "b" && (l["prompt"] != "What is the capital of Australia?" || l["chosen"] != "Excellent: Canberra." || l["chosen_model"] != "gen-1") {
			t.Fatalf("pairwise line: %v", l)
		}
	}
	want := map[string][]string{
		"cmp-flip":    {"b>a:1 by rita (analyst)"},
		"cmp-steady":  {"b>c:1 by countersign (automatic)", "b>a:2 by countersign (automatic)", "c>a:1 by countersign (automatic)"},
		"cmp-medical": {"b>a:1 by carla (analyst)"},
		// b is unsafe: the judge ranks it last, below every safe candidate;
		// never chosen, rejected by every safe one.
		"cmp-unsafe": {"a>c:1 by rita (analyst)", "a>b:2 by rita (analyst)", "c>b:1 by rita (analyst)"},
	}
	for item, w := range want {
		slices.Sort(w)
		slices.Sort(pairs[item])
		if !slices.Equal(pairs[item], w) {
			t.Errorf("pairwise %s: %v, want %v", item, pairs[item], w)
		}
	}
	ranked := export("ranked")
	if len(ranked) != 4 {
		t.Fatalf("%d ranked lines, want 4", len(ranked))
	}
	for _, l := range ranked {
		if l["item_id"] == "cmp-unsafe" {
			if got := fmt.Sprint(l["ranking"]); got != "[[a] [c] [b]]" {
				t.Errorf("ranked cmp-unsafe: %s", got)
			}
			cands := l["candidates"].([]any)
			if b := cands[1].(map[string]any); b["unsafe"] != "dangerous_instructions" || b["rank"] != 3.0 {
				t.Errorf("ranked candidate b: %v", b)
			}
		}
	}
	sft := export("improved")
	if len(sft) != 2 {
		t.Fatalf("%d improved SFT lines, want the 2 improved responses", len(sft))
	}
	for _, l := range sft {
		msgs := l["messages"].([]any)
		if len(msgs) != 2 || msgs[1].(map[string]any)["role"] != "assistant" {
			t.Fatalf("improved SFT line: %v", l)
		}
	}

	// An example item submitted with the CLI: a prompt in a safety
	// category waits for a person.
	sample := filepath.Join("..", "..", "examples", "response-ranking", "samples", "rr-007.json")
	subTok, err := u.admin.CreateToken(ctx, "sid", countersign.RoleSubmitter, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary(t), "submit", "--type", tt, "--wait=routed", sample, "--server", a.APIURL, "--token", subTok.Secret).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\tawaiting_review\t") {
		t.Fatalf("CLI submit: %v\n%s", err, out)
	}
	id, _, _ := strings.Cut(string(out), "\t")
	if doc, err := u.admin.Document(ctx, id); err != nil || doc.ExternalID != "rr-007" || !strings.Contains(strings.Join(doc.Route.Reasons, "; "), "sensitive category") {
		t.Fatalf("the CLI's item: %v %+v", err, doc)
	}
}

// documentedFields reads the fields docs/api.md lists for an export
// format of comparisons: the first column of the table under its
// "#### format=..." heading.
func documentedFields(t *testing.T, format string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	heading := "#### `format=" + format + "`"
	_, section, ok := strings.Cut(string(raw), heading)
	if !ok {
		t.Fatalf("docs/api.md has no %s", heading)
	}
	section, _, _ = strings.Cut(section, "\n#")
	var fields []string
	for _, line := range strings.Split(section, "\n") {
		if m := regexp.MustCompile("^\\| `([a-z_]+)` \\|").FindStringSubmatch(line); m != nil {
			fields = append(fields, m[1])
		}
	}
	slices.Sort(fields)
	if len(fields) == 0 {
		t.Fatalf("docs/api.md lists no fields under %s", heading)
	}
	return fields
}
