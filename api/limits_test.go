package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/sqlite"
)

func TestTokenRevocation(t *testing.T) {
	s := newServer(t, 0)
	admin := s.tokens[countersign.RoleAdmin]
	created := s.do("POST", "/v1/tokens", admin, `{"user":"rita","role":"reviewer"}`)
	if created.status != http.StatusCreated {
		t.Fatalf("create token: %d %s", created.status, created.message())
	}
	secret, _ := created.body["token"].(string)
	id, _ := created.body["id"].(string)
	if got := s.do("GET", "/v1/reviews", secret, ""); got.status != http.StatusOK {
		t.Fatalf("new token: %d %s", got.status, got.message())
	}

	list := s.do("GET", "/v1/tokens", admin, "")
	tokens, _ := list.body["tokens"].([]any)
	if list.status != http.StatusOK || len(tokens) != len(countersign.Roles)+1 {
		t.Fatalf("token list = %d %+v", list.status, list.body)
	}
	last, _ := tokens[len(tokens)-1].(map[string]any)
	if last["id"] != id || last["user"] != "rita" || last["role"] != "reviewer" || last["revoked_at"] != nil {
		t.Fatalf("newest token in the list = %+v", last)
	}
	for _, tok := range tokens {
		for key, value := range tok.(map[string]any) {
			if key == "hash" || key == "token" || strings.Contains(fmt.Sprint(value), auth.Prefix) {
				t.Fatalf("the token list shows a secret or hash: %s = %v", key, value)
			}
		}
	}

	cases := []struct {
		name, path, body string
		status           int
		text             string
	}{
		{"no reason", "/v1/tokens/" + id + "/revoke", `{"reason":" "}`, 422, "needs a reason"},
		{"no body", "/v1/tokens/" + id + "/revoke", ``, 400, "empty"},
		{"unknown token", "/v1/tokens/tok_nope/revoke", `{"reason":"leaked"}`, 404, "token tok_nope not found"},
	}
	for _, tc := range cases {
		if got := s.do("POST", tc.path, admin, tc.body); got.status != tc.status || !strings.Contains(got.message(), tc.text) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, got.status, got.message(), tc.status, tc.text)
		}
	}

	revoked := s.do("POST", "/v1/tokens/"+id+"/revoke", admin, `{"reason":"pasted in a ticket"}`)
	if revoked.status != http.StatusOK || revoked.body["id"] != id || revoked.body["revoked_by"] != "user-admin" ||
		revoked.body["revoke_reason"] != "pasted in a ticket" || revoked.body["revoked_at"] == nil {
		t.Fatalf("revoke = %d %+v", revoked.status, revoked.body)
	}
	got := s.do("GET", "/v1/reviews", secret, "")
	if got.status != http.StatusUnauthorized || got.code() != "unauthorized" || !strings.HasPrefix(got.message(), "token revoked at ") {
		t.Fatalf("revoked token: %d %s %q, want 401 token revoked at ...", got.status, got.code(), got.message())
	}
	if !strings.Contains(got.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("revoked token: WWW-Authenticate %q", got.header.Get("WWW-Authenticate"))
	}
	if again := s.do("POST", "/v1/tokens/"+id+"/revoke", admin, `{"reason":"pasted in a ticket"}`); again.status != http.StatusOK {
		t.Fatalf("revoking again for the same reason: %d %s", again.status, again.message())
	}
	if other := s.do("POST", "/v1/tokens/"+id+"/revoke", admin, `{"reason":"another"}`); other.status != http.StatusConflict || !strings.Contains(other.message(), "already revoked by user-admin") {
		t.Fatalf("revoking again for another reason: %d %s", other.status, other.message())
	}

	// The revocation is one audit event, and the chain holds.
	var events []countersign.AuditEvent
	err := s.store.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		if e.Type == countersign.EventTokenRevoked {
			events = append(events, e)
		}
		return nil
	})
	if err != nil || len(events) != 1 || events[0].Actor != "user-admin" || !strings.Contains(string(events[0].Data), id) {
		t.Fatalf("revocation events = %+v, %v", events, err)
	}
	verify := s.do("GET", "/v1/audit/verify", s.tokens[countersign.RoleAuditor], "")
	if verify.body["ok"] != true {
		t.Fatalf("verify after a revocation = %+v", verify.body)
	}
}

func TestFieldLimits(t *testing.T) {
	s := newServer(t, 0)
	fields := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"f%d":%d`, i, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	metadata := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	submitter := s.tokens[countersign.RoleSubmitter]
	admin := s.tokens[countersign.RoleAdmin]
	cases := []struct {
		name, method, path, token, body string
		status                          int
		text                            string
	}{
		{"decision fields", "POST", "/v1/reviews/abc-r1/decision", admin, `{"action":"correct","fields":` + fields(api.DefaultMaxFields+1) + `}`,
			422, fmt.Sprintf("the request has %d fields; the limit is %d", api.DefaultMaxFields+1, api.DefaultMaxFields)},
		{"veto fields", "POST", "/v1/documents/abc/veto", admin, `{"action":"correct","fields":` + fields(api.DefaultMaxFields+1) + `}`,
			422, "the limit is 200"},
		{"metadata keys", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":"hello","metadata":` + metadata(api.DefaultMaxMetadataKeys+1) + `}`,
			422, fmt.Sprintf("metadata has %d keys; the limit is %d", api.DefaultMaxMetadataKeys+1, api.DefaultMaxMetadataKeys)},
		// At the limit, the request goes on to the next check.
		{"decision fields at the limit", "POST", "/v1/reviews/abc-r1/decision", admin, `{"action":"correct","fields":` + fields(api.DefaultMaxFields) + `}`,
			404, "review abc-r1 not found"},
		{"metadata keys at the limit", "POST", "/v1/documents", submitter, `{"task_type":"tax-return","content":"hello","metadata":` + metadata(api.DefaultMaxMetadataKeys) + `}`,
			404, "unknown task type"},
		{"document size", "POST", "/v1/documents", submitter, `{"task_type":"contract-review","content":"` + strings.Repeat("x", 65) + `"}`,
			413, "document is 65 bytes; the limit is 64"},
	}
	for _, tc := range cases {
		got := s.do(tc.method, tc.path, tc.token, tc.body)
		if got.status != tc.status || !strings.Contains(got.message(), tc.text) {
			t.Errorf("%s: %d %s %q, want %d containing %q", tc.name, got.status, got.code(), got.message(), tc.status, tc.text)
		}
	}
}

// clock is a settable clock for Services.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Now: clk.Now, RateLimit: 0.5, RateBurst: 3}))
	defer ts.Close()
	s := &server{t: t, url: ts.URL, store: store}
	issue := func(user string) string {
		secret, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, user, countersign.RoleAuditor, 0, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	ann, bob := issue("ann"), issue("bob")

	for i := range 3 {
		if got := s.do("GET", "/v1/reviews", ann, ""); got.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, got.status, got.message())
		}
	}
	got := s.do("GET", "/v1/reviews", ann, "")
	if got.status != http.StatusTooManyRequests || got.code() != "rate_limited" || got.header.Get("Retry-After") != "2" ||
		!strings.Contains(got.message(), "may make 0.5 requests per second, in bursts of up to 3; retry in 2 s") || !strings.Contains(got.message(), "(ann)") {
		t.Fatalf("past the burst: %d %s %q, Retry-After %q", got.status, got.code(), got.message(), got.header.Get("Retry-After"))
	}
	// Forbidden requests count too: a token cannot probe for free.
	if got := s.do("POST", "/v1/tokens", ann, `{}`); got.status != http.StatusTooManyRequests {
		t.Fatalf("a forbidden request past the burst: %d, want 429", got.status)
	}
	// Each token has its own bucket.
	if got := s.do("GET", "/v1/reviews", bob, ""); got.status != http.StatusOK {
		t.Fatalf("another token: %d %s", got.status, got.message())
	}
	// A refused request takes nothing: after 2 s one more goes through.
	clk.advance(1500 * time.Millisecond)
	if got := s.do("GET", "/v1/reviews", ann, ""); got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "1" {
		t.Fatalf("after 1.5 s: %d, Retry-After %q", got.status, got.header.Get("Retry-After"))
	}
	clk.advance(500 * time.Millisecond)
	if got := s.do("GET", "/v1/reviews", ann, ""); got.status != http.StatusOK {
		t.Fatalf("after 2 s: %d %s", got.status, got.message())
	}
	if got := s.do("GET", "/v1/reviews", ann, ""); got.status != http.StatusTooManyRequests {
		t.Fatalf("the refilled request is used: %d", got.status)
	}
	// The probes take no token and are not limited.
	if got := s.do("GET", "/healthz", "", ""); got.status != http.StatusOK {
		t.Fatalf("healthz: %d", got.status)
	}
}

func TestRateLimitOff(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Now: func() time.Time { return now }, RateLimit: api.NoRateLimit, RateBurst: 1}))
	defer ts.Close()
	s := &server{t: t, url: ts.URL, store: store}
	secret, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "ann", countersign.RoleAuditor, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got := s.do("GET", "/v1/reviews", secret, ""); got.status != http.StatusOK {
			t.Fatalf("request %d with the limit off: %d %s", i+1, got.status, got.message())
		}
	}
}
