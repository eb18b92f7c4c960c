package slackapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/dispatch"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// endpoint is the real router serving the Slack endpoints over a real
// store, with a fake Decider and a fake Slack.
type endpoint struct {
	url     string
	slack   *fakeSlack
	decider *fakeDecider
	fx      *fixture
}

func newEndpoint(t *testing.T) *endpoint {
	t.Helper()
	e := &endpoint{slack: newFakeSlack(t), decider: &fakeDecider{}, fx: newFixture(t)}
	e.url = e.serveSlack(t, e.fx.store, time.Now).url
	return e
}

// serveSlack serves the Slack endpoints again, as another API process
// would, over the endpoint's data, fakes and Decider, remembering requests
// in replays, with the clock now.
func (e *endpoint) serveSlack(t *testing.T, replays Replays, now func() time.Time) *endpoint {
	t.Helper()
	client, _ := newClient(e.slack)
	// Claims touch only the store: the real dispatcher takes them.
	h := &Handler{Store: e.fx.store, TaskTypes: testTypes, Decider: e.decider, Claims: &dispatch.Dispatcher{Store: e.fx.store}, Slack: client}
	web := NewHTTP(h, secret, replays)
	web.Now = now
	srv := httptest.NewServer(api.Router(api.Services{
		Store:             e.fx.store,
		Ready:             func(context.Context) error { return nil },
		SlackInteractions: web.Interactions(),
		SlackCommands:     web.Commands(),
	}))
	t.Cleanup(srv.Close)
	return &endpoint{url: srv.URL, slack: e.slack, decider: e.decider, fx: e.fx}
}

// request is a request to a Slack endpoint, signed unless told otherwise.
type request struct {
	path    string
	body    string
	stamp   time.Time
	secret  string
	headers bool
}

func sign(secret, stamp, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// interaction is a signed request carrying payload to /slack/interactions.
func interaction(payload any) request {
	raw, _ := json.Marshal(payload)
	return request{path: "/slack/interactions", body: url.Values{"payload": {string(raw)}}.Encode(), stamp: time.Now(), secret: secret, headers: true}
}

func (e *endpoint) send(t *testing.T, r request) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.headers {
		stamp := strconv.FormatInt(r.stamp.Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", sign(r.secret, stamp, r.body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s answered %d with %q, not JSON", r.path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, body
}

// click is a block_actions payload: user clicked the button action on
// review's message.
func click(user, action, review string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": "trig-1",
		"channel":   map[string]any{"id": "CREVIEWS"},
		"container": map[string]any{"type": "message", "channel_id": "CREVIEWS", "message_ts": "1700000000.000001"},
		"actions":   []any{map[string]any{"type": "button", "block_id": blockDecide, "action_id": action, "value": review, "action_ts": "1700000100.1"}},
	}
}

// submission is a view_submission payload of one of the modals.
func submission(user, callback, review string, inputs map[string]string) map[string]any {
	values := map[string]any{}
	for block, value := range inputs {
		values[block] = map[string]any{inputAction: map[string]any{"type": "plain_text_input", "value": value}}
	}
	return map[string]any{
		"type": "view_submission", "user": map[string]any{"id": user},
		"view": map[string]any{
			"id": "V1", "hash": "h1", "callback_id": callback,
			"private_metadata": viewMeta{Review: review, Channel: "CREVIEWS", TS: "1700000000.000001"}.encode(),
			"state":            map[string]any{"values": values},
		},
	}
}

func TestApproveClickDecides(t *testing.T) {
	e := newEndpoint(t)
	status, body := e.send(t, interaction(click("URITA", ActionApprove, "doc1-r1")))
	if status != http.StatusOK || body != nil {
		t.Fatalf("approve click answered %d %v, want an empty 200", status, body)
	}
	calls := e.decider.received()
	want := decided{
		ReviewID: "doc1-r1", Caller: countersign.Principal{User: "rita", Role: countersign.RoleReviewer, Groups: []string{"contracts"}},
		Channel: countersign.ChannelSlack, Req: dispatch.Decision{Action: countersign.ActionApprove}, Key: "click/1700000100.1",
	}
	if len(calls) != 1 || calls[0].ReviewID != want.ReviewID || calls[0].Caller.User != "rita" || calls[0].Caller.Role != want.Caller.Role ||
		calls[0].Channel != want.Channel || calls[0].Req.Action != want.Req.Action || calls[0].Key != want.Key {
		t.Fatalf("decisions %+v, want %+v", calls, want)
	}
	told := e.slack.received("chat.postEphemeral")
	if len(told) != 1 || told[0].Form.Get("user") != "URITA" || told[0].Form.Get("channel") != "CREVIEWS" || !strings.Contains(told[0].Form.Get("text"), "approved review doc1-r1") {
		t.Errorf("ephemeral answers %+v, want rita told the approval went through", told)
	}
}

func TestCorrectionDecidesWithTypedFields(t *testing.T) {
	e := newEndpoint(t)
	if status, _ := e.send(t, interaction(click("URITA", ActionCorrect, "doc1-r1"))); status != http.StatusOK {
		t.Fatalf("correct click answered %d", status)
	}
	views := e.slack.received("views.open")
	if len(views) != 1 || views[0].JSON["trigger_id"] != "trig-1" {
		t.Fatalf("views opened %+v, want the correction modal for the click's trigger", views)
	}
	view := views[0].JSON["view"].(map[string]any)
	if view["callback_id"] != ViewCorrect {
		t.Errorf("modal %v, want the correction", view["callback_id"])
	}
	prefilled := map[string]string{}
	for _, b := range view["blocks"].([]any) {
		block := b.(map[string]any)
		if block["type"] == "input" {
			element := block["element"].(map[string]any)
			value, _ := element["initial_value"].(string)
			prefilled[block["block_id"].(string)] = value
		}
	}
	if prefilled["field:term_months"] != "12" || prefilled["field:party_a"] != "Acme Corp" || prefilled["field:renewal"] != "true" {
		t.Errorf("modal filled with %v, want the draft's values", prefilled)
	}
	if len(e.decider.received()) != 0 {
		t.Fatal("opening the modal decided something")
	}

	status, body := e.send(t, interaction(submission("URITA", ViewCorrect, "doc1-r1", map[string]string{
		"field:party_a": "Acme Corp", "field:term_months": "24", "field:renewal": "false", "field:amount": "1250.5",
	})))
	if status != http.StatusOK || body != nil {
		t.Fatalf("correction answered %d %v, want an empty 200 that closes the modal", status, body)
	}
	calls := e.decider.received()
	if len(calls) != 1 || calls[0].Req.Action != countersign.ActionCorrect || calls[0].Key != "view/V1/h1" {
		t.Fatalf("decisions %+v, want one correction", calls)
	}
	want := countersign.Fields{"term_months": int64(24), "renewal": false, "amount": 1250.5}
	got := calls[0].Req.Fields
	if len(got) != len(want) || got["term_months"] != want["term_months"] || got["renewal"] != want["renewal"] || got["amount"] != want["amount"] {
		t.Errorf("corrected fields %#v, want %#v: the changed ones, typed by the schema", got, want)
	}
}

func TestCorrectionOfTheWrongTypeStaysInTheModal(t *testing.T) {
	e := newEndpoint(t)
	status, body := e.send(t, interaction(submission("URITA", ViewCorrect, "doc1-r1", map[string]string{"field:term_months": "two years"})))
	errs, _ := body["errors"].(map[string]any)
	if status != http.StatusOK || body["response_action"] != "errors" || errs["field:term_months"] != "must be a whole number" {
		t.Fatalf("answered %d %v, want the modal's field error", status, body)
	}
	if len(e.decider.received()) != 0 {
		t.Fatal("an unreadable correction reached the decider")
	}
	e.decider.refuse(countersign.Errorf(countersign.CodeInvalid, "field renewal: expected boolean"))
	_, body = e.send(t, interaction(submission("URITA", ViewCorrect, "doc1-r1", map[string]string{"field:party_a": "Acme", "field:renewal": "false"})))
	errs, _ = body["errors"].(map[string]any)
	if message, _ := errs["field:renewal"].(string); !strings.Contains(message, "expected boolean") {
		t.Fatalf("validator refusal shown as %v, want it under the field it names", body)
	}
}

func TestRejectionDecidesWithItsReason(t *testing.T) {
	e := newEndpoint(t)
	e.send(t, interaction(click("USAM", ActionReject, "doc2-r1")))
	if views := e.slack.received("views.open"); len(views) != 1 || views[0].JSON["view"].(map[string]any)["callback_id"] != ViewReject {
		t.Fatalf("views opened %+v, want the rejection modal", views)
	}
	_, body := e.send(t, interaction(submission("USAM", ViewReject, "doc2-r1", map[string]string{blockReason: "  "})))
	if errs, _ := body["errors"].(map[string]any); errs[blockReason] == nil {
		t.Fatalf("empty reason answered %v, want a modal error", body)
	}
	status, body := e.send(t, interaction(submission("USAM", ViewReject, "doc2-r1", map[string]string{blockReason: "not the signed copy"})))
	calls := e.decider.received()
	if status != http.StatusOK || body != nil || len(calls) != 1 || calls[0].Req.Action != countersign.ActionReject || calls[0].Req.Reason != "not the signed copy" || calls[0].Caller.User != "sam" {
		t.Fatalf("rejection answered %d %v, decisions %+v", status, body, calls)
	}
}

func TestRefusedRequestsReachNoDecider(t *testing.T) {
	e := newEndpoint(t)
	approve := interaction(click("URITA", ActionApprove, "doc1-r1"))
	stale := approve
	stale.stamp = time.Now().Add(-6 * time.Minute)
	wrong := approve
	wrong.secret = "not-the-secret"
	unsigned := approve
	unsigned.headers = false
	tampered := approve
	tampered.body = strings.Replace(approve.body, "URITA", "USAM", 1)
	for name, r := range map[string]request{"stale timestamp": stale, "wrong secret": wrong, "no signature": unsigned} {
		if status, body := e.send(t, r); status != http.StatusUnauthorized {
			t.Errorf("%s: %d %v, want 401", name, status, body)
		}
	}
	// A body changed after signing: the signature is of the first body.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/slack/interactions", strings.NewReader(tampered.body))
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", sign(secret, stamp, approve.body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: %v, %v; want 401", resp.Status, err)
	}
	if len(e.decider.received()) != 0 || len(e.slack.received("chat.postEphemeral")) != 0 {
		t.Fatal("an unverified request was acted on")
	}

	if status, _ := e.send(t, approve); status != http.StatusOK {
		t.Fatalf("the genuine request: %d", status)
	}
	if status, _ := e.send(t, approve); status != http.StatusUnauthorized {
		t.Errorf("the same request again: %d, want 401 for a replay", status)
	}
	// The same signature spelled in upper-case hex still verifies with
	// Slack's verifier: it is the same request, and a replay.
	req, _ = http.NewRequest(http.MethodPost, e.url+"/slack/interactions", strings.NewReader(approve.body))
	stamp = strconv.FormatInt(approve.stamp.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(sign(approve.secret, stamp, approve.body), "v0=")))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the replay with its signature in upper case: %v, %v; want 401", resp.Status, err)
	}
	if n := len(e.decider.received()); n != 1 {
		t.Errorf("%d decisions, want the genuine one only", n)
	}
}

func TestUnauthorizedSlackUsersAreRefusedPolitely(t *testing.T) {
	e := newEndpoint(t)
	cases := []struct {
		who, review, want string
	}{
		{"UNOBODY", "doc1-r1", "not linked to a countersign user"},
		{"UADA", "doc1-r1", "role auditor may not decide"},
		{"UPAT", "doc1-r1", "review groups contracts"},
	}
	for _, c := range cases {
		e.send(t, interaction(click(c.who, ActionApprove, c.review)))
		e.send(t, interaction(click(c.who, ActionCorrect, c.review)))
	}
	_, body := e.send(t, interaction(submission("UNOBODY", ViewReject, "doc1-r1", map[string]string{blockReason: "no"})))
	if errs, _ := body["errors"].(map[string]any); !strings.Contains(errs[blockReason].(string), "not linked") {
		t.Errorf("unlinked submission answered %v, want the refusal in the modal", body)
	}
	if calls := e.decider.received(); len(calls) != 0 {
		t.Fatalf("refused people reached the decider: %+v", calls)
	}
	if views := e.slack.received("views.open"); len(views) != 0 {
		t.Errorf("a modal opened for a refused person")
	}
	told := e.slack.received("chat.postEphemeral")
	if len(told) != 2*len(cases) {
		t.Fatalf("%d ephemeral answers, want %d", len(told), 2*len(cases))
	}
	for i, c := range cases {
		if m := told[2*i]; m.Form.Get("user") != c.who || !strings.Contains(m.Form.Get("text"), c.want) {
			t.Errorf("%s told %q, want %q", c.who, m.Form.Get("text"), c.want)
		}
	}
}

func TestClickOnAClosedReviewSaysWhoDecided(t *testing.T) {
	e := newEndpoint(t)
	e.fx.close(t, "doc1-r1", "doc1", "sam", countersign.ActionApprove)
	status, _ := e.send(t, interaction(click("URITA", ActionReject, "doc1-r1")))
	told := e.slack.received("chat.postEphemeral")
	if status != http.StatusOK || len(told) != 1 || told[0].Form.Get("text") != "Already decided: sam approved this review." {
		t.Fatalf("answered %d, told %+v; want a polite note", status, told)
	}
	if len(e.decider.received()) != 0 || len(e.slack.received("views.open")) != 0 {
		t.Fatal("a closed review was acted on")
	}

	// Closed while the person clicked: the validator's 409 is explained too.
	e.decider.refuse(countersign.Errorf(countersign.CodeConflict, "review doc2-r1 is already closed"))
	e.send(t, interaction(click("USAM", ActionApprove, "doc2-r1")))
	told = e.slack.received("chat.postEphemeral")
	if len(told) != 2 || !strings.Contains(told[1].Form.Get("text"), "Not decided: review doc2-r1 is already closed") {
		t.Fatalf("told %+v, want the refusal", told)
	}
}

func TestQueueCommandListsTheCallersReviews(t *testing.T) {
	e := newEndpoint(t)
	command := func(user, text string) map[string]any {
		body := url.Values{"command": {"/countersign"}, "text": {text}, "user_id": {user}, "channel_id": {"CREVIEWS"}}.Encode()
		status, reply := e.send(t, request{path: "/slack/commands", body: body, stamp: time.Now(), secret: secret, headers: true})
		if status != http.StatusOK || reply["response_type"] != "ephemeral" {
			t.Fatalf("/countersign %s as %s: %d %v, want an ephemeral reply", text, user, status, reply)
		}
		return reply
	}
	rita := command("URITA", "queue")["text"].(string)
	if !strings.Contains(rita, "doc1-r1") || strings.Contains(rita, "doc2-r1") {
		t.Errorf("rita's queue %q, want her group's review only", rita)
	}
	sam := command("USAM", "")["text"].(string)
	if !strings.Contains(sam, "doc1-r1") || !strings.Contains(sam, "doc2-r1") {
		t.Errorf("sam's queue %q, want both reviews", sam)
	}
	if text := command("UNOBODY", "queue")["text"].(string); !strings.Contains(text, "not linked") {
		t.Errorf("an unlinked person's queue: %q", text)
	}
	if text := command("URITA", "frobnicate")["text"].(string); !strings.Contains(text, "queue") {
		t.Errorf("unknown subcommand answered %q, want the help", text)
	}
	if status, _ := e.send(t, request{path: "/slack/commands", body: "user_id=URITA&text=queue", stamp: time.Now(), secret: "x", headers: true}); status != http.StatusUnauthorized {
		t.Errorf("a badly signed command: %d, want 401", status)
	}
}

// TestClaimInSlack: the Claim button holds the review for the person and
// tells them until when; someone else's click is refused naming the
// holder; /countersign next claims the next review for its caller.
func TestClaimInSlack(t *testing.T) {
	e := newEndpoint(t)
	if status, _ := e.send(t, interaction(click("URITA", ActionClaim, "doc1-r1"))); status != http.StatusOK {
		t.Fatalf("claim click answered %d", status)
	}
	told := e.slack.received("chat.postEphemeral")
	if len(told) != 1 || !strings.Contains(told[0].Form.Get("text"), "You hold review doc1-r1 until") {
		t.Fatalf("rita told %+v, want that she holds the review", told)
	}
	if r, err := e.fx.store.GetReview(context.Background(), "doc1-r1"); err != nil || r.ClaimedBy != "rita" {
		t.Fatalf("stored review %+v, %v; want rita's claim", r, err)
	}
	e.send(t, interaction(click("USAM", ActionClaim, "doc1-r1")))
	told = e.slack.received("chat.postEphemeral")
	if len(told) != 2 || !strings.Contains(told[1].Form.Get("text"), "Not claimed: review doc1-r1 is claimed by rita until") {
		t.Fatalf("sam told %q, want the refusal naming rita", told[len(told)-1].Form.Get("text"))
	}
	body := url.Values{"command": {"/countersign"}, "text": {"next"}, "user_id": {"USAM"}, "channel_id": {"CREVIEWS"}}.Encode()
	status, reply := e.send(t, request{path: "/slack/commands", body: body, stamp: time.Now(), secret: secret, headers: true})
	if text, _ := reply["text"].(string); status != http.StatusOK || !strings.Contains(text, "You hold review `doc2-r1`") {
		t.Fatalf("/countersign next as sam: %d %v, want doc2-r1 claimed for him", status, reply)
	}
	again := url.Values{"command": {"/countersign"}, "text": {"next"}, "user_id": {"USAM"}, "channel_id": {"CREVIEWS"}, "trigger_id": {"again"}}.Encode()
	status, reply = e.send(t, request{path: "/slack/commands", body: again, stamp: time.Now(), secret: secret, headers: true})
	if text, _ := reply["text"].(string); status != http.StatusOK || !strings.Contains(text, "You hold review `doc2-r1`") {
		t.Fatalf("/countersign next again as sam: %d %v, want the review he holds", status, reply)
	}
}

// TestVerdictCorrectionWithSelects: a verdict's label is a select of its
// labels and its reason codes a multi-select of the taxonomy, each filled
// with the draft's; the analyst's choices reach the decider typed as the
// schema wants them (a label, a list of codes).
func TestVerdictCorrectionWithSelects(t *testing.T) {
	e := newEndpoint(t)
	ctx := context.Background()
	doc := &countersign.Document{ID: "alert1", TaskType: "alert-triage", TaskTypeVersion: "v1", Content: `{"id":"a-1"}`, ContentSHA256: "z",
		Status: countersign.StatusAwaitingReview, SubmittedBy: "alice", CreatedAt: t0}
	if _, _, err := e.fx.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	draft := &countersign.Draft{Fields: countersign.Fields{"label": "false_positive", "severity": float64(1), "reason_codes": []any{"known_scanner"}}}
	if err := e.fx.store.UpdateDocument(ctx, "alert1", countersign.DocumentUpdate{Draft: draft}); err != nil {
		t.Fatal(err)
	}
	if err := e.fx.store.OpenReview(ctx, &countersign.Review{ID: "alert1-r1", DocumentID: "alert1", TaskType: "alert-triage", Kind: countersign.ReviewGate,
		CreatedAt: t0, DueAt: t0.Add(time.Hour), Confidence: 0.5, Reasons: []string{"hitl"}}); err != nil {
		t.Fatal(err)
	}
	if status, _ := e.send(t, interaction(click("URITA", ActionCorrect, "alert1-r1"))); status != http.StatusOK {
		t.Fatalf("correct click answered %d", status)
	}
	views := e.slack.received("views.open")
	if len(views) != 1 {
		t.Fatalf("views opened %+v", views)
	}
	elements := map[string]map[string]any{}
	for _, b := range views[0].JSON["view"].(map[string]any)["blocks"].([]any) {
		block := b.(map[string]any)
		if block["type"] == "input" {
			elements[block["block_id"].(string)] = block["element"].(map[string]any)
		}
	}
	label, codes := elements["field:label"], elements["field:reason_codes"]
	if label["type"] != "static_select" || len(label["options"].([]any)) != 2 || label["initial_option"].(map[string]any)["value"] != "false_positive" {
		t.Fatalf("label input = %v: a select of the two labels, the draft's chosen", label)
	}
	if codes["type"] != "multi_static_select" || len(codes["options"].([]any)) != 3 || len(codes["initial_options"].([]any)) != 1 {
		t.Fatalf("reason codes input = %v: a multi-select of the taxonomy, the draft's chosen", codes)
	}
	if elements["field:severity"]["type"] != "plain_text_input" {
		t.Fatalf("severity input = %v: a number is typed", elements["field:severity"])
	}

	values := map[string]any{
		"field:label":    map[string]any{inputAction: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "true_positive"}}},
		"field:severity": map[string]any{inputAction: map[string]any{"type": "plain_text_input", "value": "4"}},
		"field:reason_codes": map[string]any{inputAction: map[string]any{"type": "multi_static_select", "selected_options": []any{
			map[string]any{"value": "credential_compromise"}, map[string]any{"value": "data_loss"}}}},
	}
	sub := submission("URITA", ViewCorrect, "alert1-r1", nil)
	sub["view"].(map[string]any)["state"] = map[string]any{"values": values}
	if status, body := e.send(t, interaction(sub)); status != http.StatusOK || body != nil {
		t.Fatalf("correction answered %d %v", status, body)
	}
	calls := e.decider.received()
	if len(calls) != 1 {
		t.Fatalf("decisions %+v, want one", calls)
	}
	got := calls[0].Req.Fields
	if got["label"] != "true_positive" || got["severity"] != int64(4) || fmt.Sprint(got["reason_codes"]) != "[credential_compromise data_loss]" {
		t.Fatalf("corrected fields %#v: the chosen label, the typed severity, the chosen codes as a list", got)
	}
}
