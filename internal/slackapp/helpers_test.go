package slackapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// call is one Web API call the fake Slack received.
type call struct {
	Method string
	Form   url.Values
	JSON   map[string]any
}

// fakeSlack is slack-go's slacktest server with the methods countersign
// calls answered and recorded; limited makes the next calls of a method
// answer 429 with a Retry-After.
type fakeSlack struct {
	srv *slacktest.Server

	mu      sync.Mutex
	calls   []call
	limited map[string][]int // method → Retry-After seconds of the next answers
	down    bool
	ts      int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{limited: map[string][]int{}}
	binder := func(c slacktest.Customize) {
		for _, method := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "conversations.open"} {
			c.Handle("/"+method, f.handler(method))
		}
	}
	f.srv = slacktest.NewTestServer(binder)
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) url() string { return f.srv.GetAPIURL() }

// setDown makes every call fail with a 502, as an outage does.
func (f *fakeSlack) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// limit makes the next calls of method answer 429 with these Retry-After
// seconds, one call each.
func (f *fakeSlack) limit(method string, retryAfter ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited[method] = retryAfter
}

func (f *fakeSlack) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := call{Method: method}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			raw, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(raw, &c.JSON)
		} else {
			_ = r.ParseForm()
			c.Form = r.PostForm
		}
		f.mu.Lock()
		if f.down {
			f.mu.Unlock()
			http.Error(w, "<html>down</html>", http.StatusBadGateway)
			return
		}
		if waits := f.limited[method]; len(waits) > 0 {
			f.limited[method] = waits[1:]
			f.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(waits[0]))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		f.calls = append(f.calls, c)
		f.ts++
		ts := fmt.Sprintf("1700000000.%06d", f.ts)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		channel := c.Form.Get("channel")
		if strings.HasPrefix(channel, "#") {
			channel = "C" + strings.ToUpper(strings.TrimPrefix(channel, "#"))
		}
		switch method {
		case "conversations.open":
			fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, c.Form.Get("users"))
		case "views.open":
			fmt.Fprint(w, `{"ok":true,"view":{"id":"V1"}}`)
		case "chat.postEphemeral":
			fmt.Fprintf(w, `{"ok":true,"message_ts":%q}`, ts)
		default:
			fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, channel, ts)
		}
	}
}

// received returns the calls of a method so far.
func (f *fakeSlack) received(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// blocks decodes the blocks of a message call.
func (c call) blocks(t *testing.T) []map[string]any {
	t.Helper()
	var raw string
	if c.Form != nil {
		raw = c.Form.Get("blocks")
	}
	var blocks []map[string]any
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
			t.Fatalf("%s blocks: %v", c.Method, err)
		}
	}
	return blocks
}

// texts are the texts of a message's blocks, in order, as JSON.
func texts(t *testing.T, blocks []map[string]any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fakeClock is a clock that moves only when the client sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// newClient is a client of the fake Slack on a fake clock.
func newClient(f *fakeSlack) (*Client, *fakeClock) {
	clock := &fakeClock{now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	c := NewClient("xoxb-test", f.url())
	c.Now, c.Sleep = clock.Now, clock.Sleep
	return c, clock
}

// taskTypes is a fixed set of task types.
type taskTypes map[string]*countersign.TaskType

func (t taskTypes) Get(name string) (*countersign.TaskType, error) {
	if tt, ok := t[name]; ok {
		return tt, nil
	}
	return nil, countersign.Errorf(countersign.CodeNotFound, "no task type %s", name)
}

func (t taskTypes) All() []*countersign.TaskType {
	var all []*countersign.TaskType
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for name := range t {
			if !yield(name) {
				return
			}
		}
	}) {
		all = append(all, t[name])
	}
	return all
}

var testTypes = taskTypes{
	"contract-review": {
		Name: "contract-review", Title: "Contract review",
		Schema: json.RawMessage(`{"type":"object","properties":{
			"party_a":{"type":"string","title":"First party"},
			"term_months":{"type":["integer","null"]},
			"renewal":{"type":"boolean"},
			"amount":{"type":"number"}}}`),
		FieldOrder:   []string{"party_a", "term_months", "renewal", "amount"},
		ReviewGroups: []string{"contracts"},
		Policy: countersign.Policy{RiskRules: []countersign.PolicyRule{
			{Name: "long lease", When: "fields.term_months > 60", Description: "a lease of more than five years"},
		}},
	},
	"alert-triage": {
		Name: "alert-triage", Title: "Alert triage",
		Schema: json.RawMessage(`{"type":"object","properties":{
			"label":{"type":"string","enum":["true_positive","false_positive"]},
			"severity":{"type":"integer","minimum":1,"maximum":5},
			"reason_codes":{"type":"array","items":{"type":"string","enum":["known_scanner","credential_compromise","data_loss"]}}}}`),
		FieldOrder: []string{"label", "severity", "reason_codes"},
	},
	"pii-extraction": {
		Name: "pii-extraction", Title: "PII extraction",
		Schema:       json.RawMessage(`{"type":"object","properties":{"full_name":{"type":"string"}}}`),
		FieldOrder:   []string{"full_name"},
		ReviewGroups: []string{"privacy"},
	},
}

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// fixture is a real SQLite store with two open reviews, one of each task
// type, and linked Slack accounts: rita (reviewer, contracts), sam
// (approver), pat (reviewer, privacy), ada (auditor).
type fixture struct {
	store *sqlite.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "slack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	one, two := 0.35, 0.95
	docs := []struct {
		doc    *countersign.Document
		review *countersign.Review
	}{
		{
			doc: &countersign.Document{
				ID: "doc1", TaskType: "contract-review", TaskTypeVersion: "v1", Content: "Acme <!channel> lease", ContentSHA256: "x",
				Status: countersign.StatusAwaitingReview, SubmittedBy: "alice", CreatedAt: t0,
				Draft: &countersign.Draft{
					Fields:   countersign.Fields{"party_a": "Acme Corp", "term_months": float64(12), "renewal": true},
					Evidence: map[string]countersign.Evidence{"term_months": {Quote: "for <!channel> twelve months"}, "party_a": {Quote: "Acme Corp"}},
				},
				Confidence: &countersign.Confidence{Overall: 0.35, Fields: map[string]countersign.FieldScore{
					"party_a": {Score: two}, "term_months": {Score: one, Reasons: []string{"rules found 24"}}, "renewal": {Score: 0.8},
				}},
			},
			review: &countersign.Review{
				ID: "doc1-r1", DocumentID: "doc1", TaskType: "contract-review", Kind: countersign.ReviewGate,
				CreatedAt: t0, DueAt: t0.Add(24 * time.Hour), Confidence: 0.35, Reasons: []string{"weakest field term_months (0.35)", `risk rule "long lease" matched: fields.term_months > 60`},
			},
		},
		{
			doc: &countersign.Document{
				ID: "doc2", TaskType: "pii-extraction", TaskTypeVersion: "v1", Content: "Hi", ContentSHA256: "y",
				Status: countersign.StatusAwaitingReview, SubmittedBy: "alice", CreatedAt: t0.Add(time.Minute),
				Draft: &countersign.Draft{Fields: countersign.Fields{"full_name": "Ann Lee"}},
			},
			review: &countersign.Review{
				ID: "doc2-r1", DocumentID: "doc2", TaskType: "pii-extraction", Kind: countersign.ReviewGate,
				CreatedAt: t0.Add(time.Minute), DueAt: t0.Add(25 * time.Hour), Confidence: 0.5, Reasons: []string{"policy mode hitl"},
			},
		},
	}
	for _, d := range docs {
		if _, _, err := s.CreateDocument(ctx, d.doc); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateDocument(ctx, d.doc.ID, countersign.DocumentUpdate{Draft: d.doc.Draft, Confidence: d.doc.Confidence}); err != nil {
			t.Fatal(err)
		}
		if err := s.OpenReview(ctx, d.review); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []countersign.SlackUser{
		{SlackUserID: "URITA", User: "rita", Role: countersign.RoleReviewer, Groups: []string{"contracts"}},
		{SlackUserID: "USAM", User: "sam", Role: countersign.RoleApprover},
		{SlackUserID: "UPAT", User: "pat", Role: countersign.RoleReviewer, Groups: []string{"privacy"}},
		{SlackUserID: "UADA", User: "ada", Role: countersign.RoleAuditor, Groups: []string{"contracts"}},
	} {
		u.LinkedBy, u.LinkedAt = "admin", t0
		if _, err := s.LinkSlackUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{store: s}
}

// close records a decision that closes a review.
func (f *fixture) close(t *testing.T, reviewID, documentID, actor string, action countersign.Action) {
	t.Helper()
	d := &countersign.Decision{ID: reviewID + "-d", ReviewID: reviewID, DocumentID: documentID, Action: action, Actor: actor,
		Role: countersign.RoleApprover, Channel: countersign.ChannelAPI, At: t0.Add(time.Hour)}
	if err := f.store.RecordDecision(context.Background(), d, true); err != nil {
		t.Fatal(err)
	}
}

// decided is one call of the fake Decider.
type decided struct {
	ReviewID string
	Caller   countersign.Principal
	Channel  countersign.Channel
	Req      dispatch.Decision
	Key      string
}

// fakeDecider records decisions and answers err when set.
type fakeDecider struct {
	mu    sync.Mutex
	calls []decided
	err   error
}

func (d *fakeDecider) Decide(_ context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, req dispatch.Decision, key string) (*dispatch.Decided, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, decided{ReviewID: reviewID, Caller: caller, Channel: ch, Req: req, Key: key})
	if d.err != nil {
		return nil, d.err
	}
	return &dispatch.Decided{Decision: countersign.Decision{Action: req.Action}, DocumentID: strings.TrimSuffix(reviewID, "-r1"), Status: countersign.StatusAccepted}, nil
}

// refuse makes the next decisions fail with err, as the validator's
// refusals do.
func (d *fakeDecider) refuse(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

func (d *fakeDecider) received() []decided {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}
