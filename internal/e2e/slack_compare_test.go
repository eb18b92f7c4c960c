package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestSlackPickBest: comparison items of examples/response-ranking,
// judged by the fake judge, are posted to Slack with their prompt and
// candidates; a person picks the best with one signed select, and the pick
// goes through dispatch (CheckComparison against the item) and the
// workflow like every Slack decision: the final ranking read through the
// API is the pick's. A forged pick of a candidate the judge marked unsafe
// is refused by the item check and decides nothing; the all-unacceptable
// code chosen beside a pick is recorded with it; an item of three
// candidates to rank sends people to the web page.
func TestSlackPickBest(t *testing.T) {
	const secret = "e2e-signing-secret"
	judge := llmtest.New(t)
	judge.Otherwise(fakeJudge)
	recorder := &slackRecorder{}
	slack := httptest.NewServer(recorder)
	t.Cleanup(slack.Close)
	a := startAppWith(t, config.Config{
		OpenAIBaseURL: judge.BaseURL(), OpenAIModel: "judge-model", PublicURL: "https://cs.example",
		SlackBotToken: "xoxb-e2e", SlackSigningSecret: secret, SlackChannel: "#reviews", SlackAPIURL: slack.URL + "/",
	}, app.Roles{Embedded: true, Worker: true, API: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u := newUsers(t, a)
	if _, err := u.admin.LinkSlackUser(ctx, api.SlackUserRequest{SlackUserID: "U0ROSA", User: "rosa", Role: countersign.RoleReviewer}); err != nil {
		t.Fatal(err)
	}
	submit := func(content string) *api.DocumentView {
		t.Helper()
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "response-ranking", Content: content})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := u.admin.WaitUntil(ctx, sub.ID, 50*time.Millisecond, func(s countersign.Status) bool { return s != countersign.StatusProcessing })
		if err != nil {
			t.Fatal(err)
		}
		if doc.Status != countersign.StatusAwaitingReview {
			t.Fatalf("%s: %s, want a person to rank it", doc.ExternalID, doc.Status)
		}
		return doc
	}
	flip := submit(comparisonItem("slack-flip", "general", "Which is better? (position-biased) <!channel>", [2]string{"a", "Fair <@U0ROSA> one."}, [2]string{"b", "Fair answer two."}))
	drain := submit(comparisonItem("slack-drain", "general", "How do I clean a drain?", [2]string{"a", "Excellent: a plunger."}, [2]string{"b", "Dangerous: mix bleach and ammonia."}))
	three := submit(comparisonItem("slack-three", "medical", "Ibuprofen with paracetamol?", [2]string{"a", "Excellent: usually yes."}, [2]string{"b", "Poor: never."}, [2]string{"c", "Fair: ask."}))

	// The messages: prompt and candidates escaped, a pick of two.
	posted := recorder.wait(t, "chat.postMessage", "countersign_pick/"+flip.Review.ID)
	blocks := plainJSON(t, posted.Get("blocks"))
	if strings.Contains(blocks, "<!channel>") || strings.Contains(blocks, "<@U0ROSA>") || !strings.Contains(blocks, "&lt;!channel&gt;") ||
		!strings.Contains(blocks, `"action_id":"countersign_pick_best"`) || !strings.Contains(blocks, "Candidate `b`") {
		t.Fatalf("the comparison's message: %s", blocks)
	}
	posted = recorder.wait(t, "chat.postMessage", "ui/reviews/"+three.Review.ID+"|Rank them there")
	if blocks := plainJSON(t, posted.Get("blocks")); strings.Contains(blocks, "countersign_pick_best") ||
		!strings.Contains(blocks, "ranking all 3 candidates is done on the web page. <https://cs.example/ui/reviews/"+three.Review.ID+"|Rank them there>") {
		t.Fatalf("an item of three to rank: %s", blocks)
	}

	picks := 0
	pick := func(review, candidate, code string) {
		t.Helper()
		picks++
		block := "countersign_pick/" + review
		state := map[string]any{"countersign_pick_best": map[string]any{"type": "static_select"}}
		if code != "" {
			state["countersign_all_unacceptable"] = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": code}}
		}
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": "U0ROSA"}, "trigger_id": "t",
			"container": map[string]any{"channel_id": "CREVIEWS", "message_ts": "1700000000.000001"},
			"state":     map[string]any{"values": map[string]any{block: state}},
			"actions": []any{map[string]any{"type": "static_select", "block_id": block, "action_id": "countersign_pick_best",
				"selected_option": map[string]any{"value": candidate}, "action_ts": fmt.Sprintf("1700000300.%d", picks)}},
		})
		body := url.Values{"payload": {string(payload)}}.Encode()
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("v0:" + stamp + ":" + body))
		req, _ := http.NewRequest(http.MethodPost, a.APIURL+"/slack/interactions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pick answered %d", resp.StatusCode)
		}
	}

	// The judge tied a and b; rosa picks b, which ranks the pair b, a.
	pick(flip.Review.ID, "b", "")
	recorder.wait(t, "chat.postEphemeral", "You picked b as the best: corrected review "+flip.Review.ID)
	flip = waitForFinal(t, u.auditor, flip.ID)
	if flip.Status != countersign.StatusAccepted || fmt.Sprint(flip.Final.Fields["ranking"]) != "[b a]" || flip.Final.DecidedBy != "rosa" ||
		len(flip.Decisions) != 1 || flip.Decisions[0].Channel != countersign.ChannelSlack || fmt.Sprint(flip.Decisions[0].Fields["ranking"]) != "[b a]" {
		t.Fatalf("after the pick: %s, final %v by %s, decisions %+v", flip.Status, flip.Final.Fields["ranking"], flip.Final.DecidedBy, flip.Decisions)
	}

	// b is marked unsafe by the judge: the message offers only a, and a
	// forged pick of b is refused by the item check, naming why.
	if posted := recorder.wait(t, "chat.postMessage", "countersign_pick/"+drain.Review.ID); strings.Contains(posted.Get("blocks"), `"value":"b"`) {
		t.Fatalf("the unsafe candidate is offered as a pick: %s", posted.Get("blocks"))
	}
	pick(drain.Review.ID, "b", "")
	recorder.wait(t, "chat.postEphemeral", "ranking places b, which is marked unsafe, above or level with the safe a")
	if doc, err := u.auditor.Document(ctx, drain.ID); err != nil || doc.Status != countersign.StatusAwaitingReview || len(doc.Decisions) != 0 {
		t.Fatalf("a refused pick decided: %v %+v", err, doc)
	}
	// The judge's pick a, with every candidate marked unacceptable.
	pick(drain.Review.ID, "a", "all_wrong")
	drain = waitForFinal(t, u.auditor, drain.ID)
	if drain.Final.Fields["all_unacceptable"] != "all_wrong" || fmt.Sprint(drain.Final.Fields["ranking"]) != "[a b]" || drain.Decisions[0].Channel != countersign.ChannelSlack {
		t.Fatalf("pick with all unacceptable: %v, decisions %+v", drain.Final.Fields, drain.Decisions)
	}
}

// plainJSON is raw JSON written again without Go's escapes of <, > and &,
// as Slack reads it.
func plainJSON(t *testing.T, raw string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
