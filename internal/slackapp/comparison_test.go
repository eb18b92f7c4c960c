package slackapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/tasktype"
)

// rankingTypes are two comparison task types: the example's (rank_all)
// and the same rubric in pick_best mode.
func rankingTypes(t *testing.T) taskTypes {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "response-ranking", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	types := taskTypes{}
	for name, src := range map[string]string{
		"response-ranking": string(raw),
		"best-answer": strings.Replace(strings.Replace(string(raw), "name: response-ranking", "name: best-answer", 1),
			"mode: rank_all", "mode: pick_best", 1),
	} {
		tt, err := tasktype.Parse([]byte(src), name)
		if err != nil {
			t.Fatal(err)
		}
		types[name] = tt
	}
	if types["best-answer"].Comparison.Mode != countersign.ModePickBest {
		t.Fatal("the pick_best variant did not take")
	}
	return types
}

// candidate is a candidate as submitted.
type candidate struct{ id, response string }

// rankingItem stores a comparison item of task type tt with the judge's
// draft (ranking and unsafe marks; every criterion scored 3) and opens
// its review, whose ID it returns.
func rankingItem(t *testing.T, e *endpoint, tt *countersign.TaskType, id string, ranking []any, unsafe []any, cands ...candidate) (string, *countersign.Document) {
	t.Helper()
	ctx := context.Background()
	var list []map[string]any
	for _, c := range cands {
		list = append(list, map[string]any{"id": c.id, "response": c.response, "model": "gen-1"})
	}
	content, _ := json.Marshal(map[string]any{"id": id, "prompt": "Which <b>answer</b> & why?", "candidates": list})
	doc := &countersign.Document{ID: id, TaskType: tt.Name, TaskTypeVersion: tt.Version, Content: string(content), ContentSHA256: id,
		Status: countersign.StatusAwaitingReview, SubmittedBy: "alice", CreatedAt: t0}
	if _, _, err := e.fx.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	scores := map[string]any{}
	for _, cr := range tt.Comparison.Criteria {
		per := map[string]any{}
		for _, c := range cands {
			per[c.id] = float64(3)
		}
		scores[cr.Name] = per
	}
	fields := countersign.Fields{countersign.FieldRanking: ranking, countersign.FieldScores: scores}
	if unsafe != nil {
		fields[countersign.FieldUnsafe] = unsafe
	}
	doc.Draft = &countersign.Draft{Fields: fields}
	if err := e.fx.store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: doc.Draft}); err != nil {
		t.Fatal(err)
	}
	review := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: tt.Name, Kind: countersign.ReviewGate,
		CreatedAt: t0, DueAt: t0.Add(time.Hour), Confidence: 0, Reasons: []string{"the judge ranked a and b equal"}}
	if err := e.fx.store.OpenReview(ctx, review); err != nil {
		t.Fatal(err)
	}
	return review.ID, doc
}

// newRankingEndpoint is newEndpoint with the comparison task types.
func newRankingEndpoint(t *testing.T, types taskTypes) *endpoint {
	t.Helper()
	e := &endpoint{slack: newFakeSlack(t), decider: &fakeDecider{}, fx: newFixture(t)}
	client, _ := newClient(e.slack)
	web := NewHTTP(&Handler{Store: e.fx.store, TaskTypes: types, Decider: e.decider, Slack: client}, secret, e.fx.store)
	srv := httptest.NewServer(api.Router(api.Services{
		Store: e.fx.store, Ready: func(context.Context) error { return nil }, SlackInteractions: web.Interactions(), SlackCommands: web.Commands(),
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// pick is a block_actions payload: user chose value in the select action
// of review's pick block, with the message's state holding code in the
// all-unacceptable select (none when empty).
func pick(user, action, review, value, code string) map[string]any {
	block := blockPick + "/" + review
	state := map[string]any{block: map[string]any{
		ActionPickBest:     map[string]any{"type": "static_select", "selected_option": nil},
		ActionUnacceptable: map[string]any{"type": "static_select", "selected_option": nil},
	}}
	if code != "" {
		state[block].(map[string]any)[ActionUnacceptable] = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": code}}
	}
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": "trig-1",
		"container": map[string]any{"type": "message", "channel_id": "CREVIEWS", "message_ts": "1700000000.000001"},
		"state":     map[string]any{"values": state},
		"actions": []any{map[string]any{"type": "static_select", "block_id": block, "action_id": action,
			"selected_option": map[string]any{"value": value}, "action_ts": "1700000200." + value + code}},
	}
}

// TestPickBestInSlack: a comparison's message shows the prompt and the
// candidates escaped and cut to fit, and offers the picks that make a
// whole decision; a pick becomes a decision with the ranking its mode
// makes ([best] in pick_best; the pair's order for two candidates), with
// the all-unacceptable code chosen beside it, and an item of three
// candidates to rank sends people to the web page.
func TestPickBestInSlack(t *testing.T) {
	types := rankingTypes(t)
	e := newRankingEndpoint(t, types)
	long := "Excellent <!channel> & <https://evil.example|click> " + strings.Repeat("ü", 2000)
	best := types["best-answer"]
	pickID, pickDoc := rankingItem(t, e, best, "pb1", []any{"a"}, []any{map[string]any{"candidate": "c", "code": "dangerous_instructions"}},
		candidate{"a", long}, candidate{"b", "Fair."}, candidate{"c", "Dangerous: mix bleach and ammonia."})
	rank := types["response-ranking"]
	pairID, pairDoc := rankingItem(t, e, rank, "ra2", []any{[]any{"a", "b"}}, nil, candidate{"a", "One."}, candidate{"b", "Two."})
	threeID, threeDoc := rankingItem(t, e, rank, "ra3", []any{"a", "b", "c"}, nil, candidate{"a", "1"}, candidate{"b", "2"}, candidate{"c", "3"})

	// The message, as the notifier posts it.
	n := &Notifier{Slack: e.client(t), Channel: "#reviews", TaskTypes: types}
	message := func(id string, doc *countersign.Document) []map[string]any {
		t.Helper()
		review, err := e.fx.store.GetReview(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Notify(context.Background(), countersign.Notice{Kind: countersign.NoticeOpened, Review: *review, Document: doc, Link: "https://cs.example/ui/reviews/" + id}); err != nil {
			t.Fatal(err)
		}
		posted := e.slack.received("chat.postMessage")
		return posted[len(posted)-1].blocks(t)
	}
	blocks := message(pickID, pickDoc)
	all := texts(t, blocks)
	if strings.Contains(all, "<!channel>") || strings.Contains(all, "<https://evil") || !strings.Contains(all, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") ||
		!strings.Contains(all, "Which &lt;b&gt;answer&lt;/b&gt; &amp; why?") {
		t.Fatalf("untrusted text not escaped:\n%s", all)
	}
	var sel, codes map[string]any
	for _, b := range blocks {
		if tb, ok := b["text"].(map[string]any); ok && b["type"] == "section" {
			text := tb["text"].(string)
			if n := utf8.RuneCountInString(text); n > 3000 {
				t.Fatalf("a section of %d characters, over Slack's 3000", n)
			}
			if strings.Contains(text, "Candidate `a`") && (!strings.HasSuffix(text, "…") || !strings.Contains(text, "judge: 1st")) {
				t.Fatalf("the long response is not cut with a mark, or the judge's place is missing: %.200s", text)
			}
			if strings.Contains(text, "Candidate `c`") && !strings.Contains(text, "unsafe (dangerous_instructions)") {
				t.Fatalf("the judge's unsafe mark is not shown: %s", text)
			}
		}
		if b["type"] == "actions" && b["block_id"] == blockPick+"/"+pickID {
			for _, el := range b["elements"].([]any) {
				el := el.(map[string]any)
				switch el["action_id"] {
				case ActionPickBest:
					sel = el
				case ActionUnacceptable:
					codes = el
				}
			}
		}
	}
	if sel == nil || sel["type"] != "static_select" || sel["confirm"] == nil {
		t.Fatalf("no pick select with a confirmation in %s", all)
	}
	var offered []string
	for _, o := range sel["options"].([]any) {
		offered = append(offered, o.(map[string]any)["value"].(string))
	}
	// c is marked unsafe: picking it over the safe a and b would be refused.
	if fmt.Sprint(offered) != "[a b]" {
		t.Fatalf("picks offered %v, want a and b", offered)
	}
	if codes == nil || len(codes["options"].([]any)) != 3 {
		t.Fatalf("all-unacceptable select %v, want the task type's 3 codes", codes)
	}
	if all := texts(t, message(pairID, pairDoc)); !strings.Contains(all, ActionPickBest) {
		t.Fatalf("a rank_all item of two candidates offers no pick:\n%s", all)
	}
	all = texts(t, message(threeID, threeDoc))
	if strings.Contains(all, ActionPickBest) || !strings.Contains(all, "ranking all 3 candidates is done on the web page. <https://cs.example/ui/reviews/ra3-r1|Rank them there>") {
		t.Fatalf("a rank_all item of three offers a pick, or does not send people to the web page:\n%s", all)
	}

	// Picks.
	decide := func(payload map[string]any) decided {
		t.Helper()
		before := len(e.decider.received())
		if status, body := e.send(t, interaction(payload)); status != http.StatusOK || body != nil {
			t.Fatalf("pick answered %d %v", status, body)
		}
		calls := e.decider.received()
		if len(calls) != before+1 {
			t.Fatalf("decisions %+v, want one more", calls)
		}
		return calls[len(calls)-1]
	}
	got := decide(pick("URITA", ActionPickBest, pickID, "b", ""))
	if got.Req.Action != countersign.ActionCorrect || fmt.Sprint(got.Req.Fields) != "map[ranking:[b]]" || got.ReviewID != pickID || got.Channel != countersign.ChannelSlack || got.Caller.User != "rita" {
		t.Fatalf("pick of b in pick_best: %+v", got)
	}
	got = decide(pick("URITA", ActionPickBest, pickID, "a", "all_wrong"))
	if got.Req.Action != countersign.ActionCorrect || fmt.Sprint(got.Req.Fields) != "map[all_unacceptable:all_wrong]" {
		t.Fatalf("the judge's pick with all unacceptable: %+v, want only the code changed", got)
	}
	got = decide(pick("URITA", ActionPickBest, pickID, "a", ""))
	if got.Req.Action != countersign.ActionApprove || got.Req.Fields != nil {
		t.Fatalf("the judge's own pick: %+v, want an approval of the draft", got)
	}
	got = decide(pick("URITA", ActionPickBest, pairID, "b", ""))
	if got.Req.Action != countersign.ActionCorrect || fmt.Sprint(got.Req.Fields) != "map[ranking:[b a]]" {
		t.Fatalf("pick of b of two in rank_all: %+v, want the ranking b, a", got)
	}
	told := e.slack.received("chat.postEphemeral")
	if text := told[len(told)-1].Form.Get("text"); !strings.HasPrefix(text, "You picked b as the best: corrected review ra2-r1") {
		t.Fatalf("told %q", text)
	}

	// Refused before the Decider: a pick no candidate's, a pick in an
	// item of three to rank; the code alone decides nothing.
	before := len(e.decider.received())
	for _, c := range []struct {
		payload map[string]any
		want    string
	}{
		{pick("URITA", ActionPickBest, pairID, "z", ""), "z is not a candidate of item ra2 (a, b)"},
		{pick("URITA", ActionPickBest, threeID, "a", ""), "this task type ranks all 3 candidates, which a pick cannot do"},
		{pick("URITA", ActionUnacceptable, pairID, "all_wrong", ""), "Now pick the best candidate"},
	} {
		if status, _ := e.send(t, interaction(c.payload)); status != http.StatusOK {
			t.Fatalf("answered %d", status)
		}
		told := e.slack.received("chat.postEphemeral")
		if text := told[len(told)-1].Form.Get("text"); !strings.Contains(text, c.want) {
			t.Errorf("told %q, want %q", text, c.want)
		}
	}
	if n := len(e.decider.received()); n != before {
		t.Fatalf("%d refused picks reached the decider", n-before)
	}
	// A refusal from dispatch (CheckComparison) is shown as it is.
	e.decider.refuse(countersign.Errorf(countersign.CodeInvalid, "the decision does not rank item ra2's candidates (a, b): scores.helpfulness is missing"))
	e.send(t, interaction(pick("URITA", ActionPickBest, pairID, "a", "")))
	told = e.slack.received("chat.postEphemeral")
	if text := told[len(told)-1].Form.Get("text"); !strings.Contains(text, "Not decided: the decision does not rank item ra2") {
		t.Fatalf("told %q", text)
	}
}

// client is a Slack client of the endpoint's fake Slack.
func (e *endpoint) client(t *testing.T) *Client {
	t.Helper()
	c, _ := newClient(e.slack)
	return c
}

func TestQuotedWithin(t *testing.T) {
	for _, c := range []struct {
		text   string
		budget int
		want   string
	}{
		{"short", 100, "&gt; short"},
		{"a<b", 100, "&gt; a&lt;b"},
		{"two\nlines", 100, "&gt; two\n&gt; lines"},
		// Cut before an escape that would not fit whole, never inside it.
		{"abc&def", 10, "&gt; abc…"},
		{"abcd", 9, "&gt; abcd"},
		{"abcde", 9, "&gt; abc…"},
		{"üüüüüü", 8, "&gt; üü…"},
	} {
		got := quotedWithin(c.text, c.budget)
		if got != c.want {
			t.Errorf("quotedWithin(%q, %d) = %q, want %q", c.text, c.budget, got, c.want)
		}
		if n := utf8.RuneCountInString(got); n > c.budget {
			t.Errorf("quotedWithin(%q, %d) is %d characters", c.text, c.budget, n)
		}
	}
}

// TestPickClearsTheJudgesUnacceptable: the judge drafted ranking [a] and
// every candidate unacceptable. A pick without a code says one is
// acceptable: picking a corrects only all_unacceptable away, picking b
// corrects the ranking and clears it too; a pick with a code keeps it.
// The message says what the judge marked.
func TestPickClearsTheJudgesUnacceptable(t *testing.T) {
	tt := rankingTypes(t)["best-answer"]
	content := `{"id": "i1", "prompt": "p", "candidates": [{"id": "a", "response": "x"}, {"id": "b", "response": "y"}, {"id": "c", "response": "z"}]}`
	doc := &countersign.Document{TaskType: tt.Name, Content: content, Draft: &countersign.Draft{Fields: countersign.Fields{
		countersign.FieldRanking: []any{"a"}, countersign.FieldAllUnacceptable: tt.Comparison.UnacceptableReasons[0].Code}}}
	c := readComparison(tt, doc)
	if c == nil {
		t.Fatal("no comparison read")
	}
	code := tt.Comparison.UnacceptableReasons[0].Code
	action, fields := c.decision("a", "")
	if v, ok := fields[countersign.FieldAllUnacceptable]; action != countersign.ActionCorrect || !ok || v != nil || len(fields) != 1 {
		t.Fatalf("pick a without a code: %s %v, want a correction clearing all_unacceptable", action, fields)
	}
	if final := countersign.Correct(doc.Draft.Fields, fields); final[countersign.FieldAllUnacceptable] != nil {
		t.Fatalf("final fields %v keep the judge's code", final)
	}
	action, fields = c.decision("b", "")
	if v, ok := fields[countersign.FieldAllUnacceptable]; action != countersign.ActionCorrect || !ok || v != nil || !countersign.SameValue(fields[countersign.FieldRanking], []any{"b"}) {
		t.Fatalf("pick b without a code: %s %v", action, fields)
	}
	if action, fields = c.decision("a", code); action != countersign.ActionApprove || fields != nil {
		t.Fatalf("pick a with the judge's code: %s %v, want an approval", action, fields)
	}
	var text strings.Builder
	for _, b := range itemBlocks(c) {
		raw, _ := json.Marshal(b)
		text.Write(raw)
	}
	if !strings.Contains(text.String(), "The judge marked every candidate unacceptable ("+code+")") {
		t.Errorf("the message does not show the judge's code: %s", text.String())
	}
}
