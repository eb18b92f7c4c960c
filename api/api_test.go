package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/openapicheck"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// server serves the real router over a real SQLite store. It has no
// Temporal client: the requests here are settled before one is needed.
type server struct {
	t      *testing.T
	url    string
	store  *sqlite.Store
	types  *tasktype.Registry
	tokens map[countersign.Role]string
}

func newServer(t *testing.T, maxBody int64) *server {
	t.Helper()
	return newServerWith(t, maxBody, nil)
}

// newServerWith is newServer with its dispatcher set up further by setup
// (a webhook, say) when setup is not nil.
func newServerWith(t *testing.T, maxBody int64, setup func(*dispatch.Dispatcher)) *server {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	d := &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store), MaxDocumentBytes: 64}
	if setup != nil {
		setup(d)
	}
	router := api.Router(api.Services{
		Store:        store,
		Dispatch:     d,
		Ready:        func(context.Context) error { return nil },
		MaxBodyBytes: maxBody,
	})
	ts := httptest.NewServer(openapicheck.Wrap(t, router))
	t.Cleanup(ts.Close)
	s := &server{t: t, url: ts.URL, store: store, types: types, tokens: map[countersign.Role]string{}}
	for _, role := range countersign.Roles {
		secret, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "user-"+string(role), role, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[role] = secret
	}
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (s *server) do(method, path, token, body string) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		s.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	return a
}

func (a answer) code() string {
	e, _ := a.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (a answer) message() string {
	e, _ := a.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

func TestAuthentication(t *testing.T) {
	s := newServer(t, 0)
	expiredSecret, _, err := auth.Issue(context.Background(), s.store, "test", countersign.ChannelCLI, "old", countersign.RoleAdmin, time.Millisecond, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, text string
	}{
		{"no token", "", "missing bearer token"},
		{"not ours", "abc", "not a countersign token"},
		{"unknown", auth.Prefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown token"},
		{"expired", expiredSecret, "token expired"},
	}
	for _, tc := range cases {
		got := s.do("GET", "/v1/reviews", tc.token, "")
		if got.status != http.StatusUnauthorized || got.code() != "unauthorized" || !strings.Contains(got.message(), tc.text) {
			t.Errorf("%s: %d %s %q", tc.name, got.status, got.code(), got.message())
		}
		if !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate header", tc.name)
		}
	}
	// The scheme is case-insensitive.
	req, _ := http.NewRequest("GET", s.url+"/v1/reviews", nil)
	req.Header.Set("Authorization", "bearer "+s.tokens[countersign.RoleAuditor])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lower-case bearer scheme: %d", resp.StatusCode)
	}
}

func TestRequestErrors(t *testing.T) {
	s := newServer(t, 256)
	submitter := s.tokens[countersign.RoleSubmitter]
	admin := s.tokens[countersign.RoleAdmin]
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code, text                      string
	}{
		{"malformed JSON", "POST", "/v1/documents", submitter, `{"task_type":`, 400, "bad_request", "not valid JSON"},
		{"empty body", "POST", "/v1/documents", submitter, ``, 400, "bad_request", "empty"},
		{"unknown field", "POST", "/v1/documents", submitter, `{"task-type":"x"}`, 400, "bad_request", `unknown field "task-type"`},
		{"wrong type", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":42}`, 400, "bad_request", `"content" must be a JSON string`},
		{"trailing data", "POST", "/v1/documents", submitter, `{"task_type":"x"} {}`, 400, "bad_request", "after the JSON object"},
		{"body too large", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":"` + strings.Repeat("x", 300) + `"}`, 413, "too_large", "larger than 256 bytes"},
		{"document too large", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":"` + strings.Repeat("x", 100) + `"}`, 413, "too_large", "limit is 64"},
		{"unknown task type", "POST", "/v1/documents", submitter, `{"task_type":"tax-return","content":"hello"}`, 404, "not_found", `unknown task type "tax-return" (known: contract-review, pii-extraction, response-ranking, soc-alert-triage, soc-webhook-triage)`},
		{"no content", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":"  "}`, 422, "invalid", "content is empty"},
		{"no task type", "POST", "/v1/documents", submitter, `{"content":"hello"}`, 422, "invalid", "task_type is required"},
		{"alert not JSON", "POST", "/v1/documents", submitter, `{"task_type":"soc-alert-triage","content":"brute force"}`, 400, "bad_request", "task type soc-alert-triage takes JSON: content is not one JSON value read one way"},
		{"alert not an object", "POST", "/v1/documents", submitter, `{"task_type":"soc-alert-triage","content":"[1, 2]"}`, 422, "invalid", "takes a JSON object: content is a JSON array"},
		{"alert without its ID", "POST", "/v1/documents", submitter, `{"task_type":"soc-alert-triage","content":"{\"finding_info\": {}}"}`, 422, "invalid", "the alert has no ID at /finding_info/uid"},
		{"stats by what", "GET", "/v1/stats?task_type=soc-alert-triage&by=severity", admin, ``, 400, "bad_request", `by="severity": the figures can be broken down by rule only`},
		{"unknown document", "GET", "/v1/documents/abc", submitter, ``, 404, "not_found", "document abc not found"},
		{"unknown review", "POST", "/v1/reviews/abc-r1/decision", admin, `{"action":"approve"}`, 404, "not_found", "review abc-r1 not found"},
		{"bad status", "GET", "/v1/reviews?status=open", admin, ``, 400, "bad_request", "use pending, closed or all"},
		{"bad limit", "GET", "/v1/reviews?limit=-3", admin, ``, 400, "bad_request", "positive whole number"},
		{"bad cursor", "GET", "/v1/reviews?cursor=zz", admin, ``, 400, "bad_request", "invalid cursor"},
		{"bad order", "GET", "/v1/reviews?order=worth", admin, ``, 400, "bad_request", `unknown review order "worth": use "due"`},
		{"unknown role", "POST", "/v1/tokens", admin, `{"user":"eve","role":"root"}`, 422, "invalid", `unknown role "root"`},
		{"bad expiry", "POST", "/v1/tokens", admin, `{"user":"eve","role":"reviewer","expires_in":"soon"}`, 422, "invalid", "expires_in"},
		{"no user", "POST", "/v1/tokens", admin, `{"role":"reviewer"}`, 422, "invalid", "a user name is needed"},
		{"calibrate unknown type", "POST", "/v1/calibrations", admin, `{"task_type":"nope"}`, 404, "not_found", "nope"},
		{"calibrate without outcomes", "POST", "/v1/calibrations", admin, `{"task_type":"contract-review"}`, 422, "invalid", "no human outcomes"},
		{"no calibration yet", "GET", "/v1/calibrations/contract-review", admin, ``, 404, "not_found", "countersign calibrate --type contract-review"},
		{"simulate bad threshold", "GET", "/v1/policy/simulate?task_type=contract-review&threshold=1.5", admin, ``, 422, "invalid", "between 0 and 1"},
		{"unknown route", "GET", "/v2/documents", admin, ``, 404, "not_found", "no such endpoint"},
	}
	for _, tc := range cases {
		got := s.do(tc.method, tc.path, tc.token, tc.body)
		if got.status != tc.status || got.code() != tc.code || !strings.Contains(got.message(), tc.text) {
			t.Errorf("%s: %d %s %q, want %d %s containing %q", tc.name, got.status, got.code(), got.message(), tc.status, tc.code, tc.text)
		}
	}
}

func TestTokensAndQueue(t *testing.T) {
	s := newServer(t, 0)
	got := s.do("POST", "/v1/tokens", s.tokens[countersign.RoleAdmin], `{"user":"rita","role":"reviewer","expires_in":"24h"}`)
	if got.status != http.StatusCreated {
		t.Fatalf("create token: %d %s", got.status, got.message())
	}
	secret, _ := got.body["token"].(string)
	if !strings.HasPrefix(secret, auth.Prefix) || got.body["user"] != "rita" || got.body["role"] != "reviewer" || got.body["expires_at"] == nil {
		t.Fatalf("token answer = %+v", got.body)
	}
	if _, ok := got.body["hash"]; ok {
		t.Fatal("the token answer shows the hash")
	}
	queue := s.do("GET", "/v1/reviews", secret, "")
	if queue.status != http.StatusOK {
		t.Fatalf("queue with the new token: %d %s", queue.status, queue.message())
	}
	if reviews, ok := queue.body["reviews"].([]any); !ok || len(reviews) != 0 {
		t.Fatalf("empty queue = %+v, want an empty list", queue.body)
	}
	if _, ok := queue.body["next_cursor"]; !ok {
		t.Fatal("queue answer has no next_cursor")
	}
	verify := s.do("GET", "/v1/audit/verify", s.tokens[countersign.RoleAuditor], "")
	if verify.status != http.StatusOK || verify.body["ok"] != true || verify.body["events"] != float64(len(countersign.Roles)+1) {
		t.Fatalf("verify after creating tokens = %+v: every token creation is an audit event", verify.body)
	}
	if ready := s.do("GET", "/readyz", "", ""); ready.status != http.StatusOK {
		t.Fatalf("readyz = %d", ready.status)
	}
}

func TestReadyzConcealsCauses(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := httptest.NewServer(api.Router(api.Services{
		Store: store,
		Ready: func(context.Context) error {
			return errors.New("dial tcp db-primary.internal:5432: password authentication failed for user ops")
		},
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(raw), "db-primary") || strings.Contains(string(raw), "ops") {
		t.Fatalf("/readyz = %d %s: it must not show hosts or users to anyone who asks", resp.StatusCode, raw)
	}
}
