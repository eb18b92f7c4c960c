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
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// slackRecorder is Slack's Web API as far as countersign calls it,
// recording every call.
type slackRecorder struct {
	mu    sync.Mutex
	calls []url.Values
	n     int
}

func (s *slackRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	form := r.PostForm
	form.Set("method", strings.TrimPrefix(r.URL.Path, "/"))
	s.mu.Lock()
	s.calls = append(s.calls, form)
	s.n++
	ts := fmt.Sprintf("1700000000.%06d", s.n)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"channel":"CREVIEWS","ts":%q,"message_ts":%q}`, ts, ts)
}

// wait returns the first call of method whose blocks or text hold want.
func (s *slackRecorder) wait(t *testing.T, method, want string) url.Values {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, c := range s.calls {
			if c.Get("method") == method && (strings.Contains(c.Get("blocks"), want) || strings.Contains(c.Get("text"), want)) {
				s.mu.Unlock()
				return c
			}
		}
		s.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Slack never received %s with %q", method, want)
	return nil
}

// TestSlackDecision runs a review through Slack with the real worker,
// workflow and router: the review is posted with its buttons, an approver
// linked to a Slack account approves it with a signed click, the decision
// goes through the workflow's validator, and the message is updated in
// place with who decided. A click from an account nobody linked decides
// nothing.
func TestSlackDecision(t *testing.T) {
	const secret = "e2e-signing-secret"
	recorder := &slackRecorder{}
	slack := httptest.NewServer(recorder)
	t.Cleanup(slack.Close)
	a := startAppWith(t, config.Config{
		SlackBotToken: "xoxb-e2e", SlackSigningSecret: secret, SlackChannel: "#reviews", SlackAPIURL: slack.URL + "/",
	}, app.Roles{Embedded: true, Worker: true, API: true})
	ctx := context.Background()
	u := newUsers(t, a)
	if _, err := u.admin.LinkSlackUser(ctx, api.SlackUserRequest{SlackUserID: "U0ANNA", User: "anna", Role: countersign.RoleApprover}); err != nil {
		t.Fatal(err)
	}

	doc, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ExternalID: "slack-1", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	reviewID := doc.ID + "-r1"
	posted := recorder.wait(t, "chat.postMessage", `"value":"`+reviewID+`"`)
	if posted.Get("channel") != "#reviews" || !strings.Contains(posted.Get("blocks"), "countersign_approve") {
		t.Fatalf("review posted as %v", posted)
	}

	clicks := 0
	click := func(user string) int {
		clicks++
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": "t",
			"container": map[string]any{"channel_id": "CREVIEWS", "message_ts": "1700000000.000001"},
			"actions":   []any{map[string]any{"block_id": "countersign_decide", "action_id": "countersign_approve", "value": reviewID, "action_ts": fmt.Sprintf("1700000100.%d", clicks)}},
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
		return resp.StatusCode
	}

	if status := click("U0STRANGER"); status != http.StatusOK {
		t.Fatalf("unlinked click answered %d, want a polite 200", status)
	}
	recorder.wait(t, "chat.postEphemeral", "not linked")
	if status := click("U0ANNA"); status != http.StatusOK {
		t.Fatalf("approve click answered %d", status)
	}
	recorder.wait(t, "chat.postEphemeral", "You approved review "+reviewID)
	updated := recorder.wait(t, "chat.update", "anna")
	if updated.Get("ts") != "1700000000.000001" || strings.Contains(updated.Get("blocks"), "countersign_approve") {
		t.Fatalf("message updated as %v, want the first message without its buttons", updated)
	}

	view, err := u.auditor.Document(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if view.Status != countersign.StatusAccepted || len(view.Decisions) != 1 || view.Decisions[0].Actor != "anna" || view.Decisions[0].Channel != countersign.ChannelSlack {
		t.Fatalf("document %s, decisions %+v; want accepted by anna through Slack alone", view.Status, view.Decisions)
	}
	if status := click("U0ANNA"); status != http.StatusOK {
		t.Fatalf("click on the closed review answered %d", status)
	}
	recorder.wait(t, "chat.postEphemeral", "Already decided: anna approved")
}
