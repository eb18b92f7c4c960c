package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/web"
)

// The contract of the fixture: its offsets are in characters, and three of
// its characters take more than one byte, so byte offsets would be wrong.
const contract = "MASTER SERVICES AGREEMENT between Zoë Müller GmbH (\"Provider\") and 北京 Trading Ltd. (\"Client\"), " +
	"effective as of March 1, 2025. The initial term is 24 months. This Agreement is governed by the laws of Sweden."

// evidenceOf is quote's evidence at its place in contract, in characters.
func evidenceOf(t testing.TB, quote string) countersign.Evidence {
	t.Helper()
	i := strings.Index(contract, quote)
	if i < 0 {
		t.Fatalf("%q is not in the contract", quote)
	}
	start := len([]rune(contract[:i]))
	return countersign.Evidence{Quote: quote, Start: start, End: start + len([]rune(quote))}
}

// fixture serves the real API router with the web page mounted, as the App
// does, over a real SQLite store; decisions go to a fake Decider.
type fixture struct {
	t       testing.TB
	url     string
	store   *sqlite.Store
	tokens  map[countersign.Role]string
	decider *fakeDecider
	// submitter takes the submit form's uploads.
	submitter *recordingSubmitter
	now       time.Time
	version   string
	// types are the task types the page serves.
	types *tasktype.Registry
}

// fixturePDF renders the pages of the fixtures' PDF originals; its
// WebAssembly module is compiled only once a test renders a page.
var fixturePDF = pdfium.New(pdfium.Limits{PageTimeout: 20 * time.Second, MemoryBytes: 128 << 20, Instances: 1})

// fixtureRateLimit is the API's rate limit in the fixtures started after
// it is set: the default unless a benchmark lifts it.
var fixtureRateLimit float64

// newFixture starts the fixture; adjust, if given, changes the task types
// before anything reads them.
func newFixture(t testing.TB, adjust ...func(*tasktype.Registry)) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, adjust...)
}

// newFixtureWith is newFixture with sign-in through sso, when not nil.
func newFixtureWith(t testing.TB, sso *web.OIDC, adjust ...func(*tasktype.Registry)) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range adjust {
		fn(types)
	}
	tt, err := types.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, tokens: map[countersign.Role]string{}, now: time.Now().UTC(), version: tt.Version, types: types}
	f.decider = &fakeDecider{store: store}
	f.submitter = &recordingSubmitter{}
	quiet := slog.New(slog.DiscardHandler)
	// Claims touch only the store: the real dispatcher takes them.
	d := &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)}
	ui := web.New(web.Services{Store: store, TaskTypes: types, Decider: f.decider, Claims: d, Escalations: d, Logger: quiet, OIDC: sso, Pages: pageimage.New(store, fixturePDF, 0),
		Submitter: f.submitter, MaxUploadBytes: fixtureUploadLimit})
	router := api.Router(api.Services{
		Store:     store,
		Dispatch:  d,
		UI:        ui,
		Ready:     func(context.Context) error { return nil },
		Logger:    quiet,
		RateLimit: fixtureRateLimit,
	})
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	users := map[countersign.Role]string{
		countersign.RoleSubmitter: "sam", countersign.RoleReviewer: "rita", countersign.RoleApprover: "anna",
		countersign.RoleAuditor: "otto", countersign.RoleAdmin: "ada",
	}
	for role, user := range users {
		secret, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, user, role, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = secret
	}
	f.seed()
	return f
}

// Documents of the fixture.
const (
	docA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // contract, pending, due in 2h
	docB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // contract, pending, due in 2h, less confident
	docC = "cccccccccccccccccccccccccccccccc" // pii, pending, due in 1h
	docD = "dddddddddddddddddddddddddddddddd" // contract, decided and final
)

func (f *fixture) seed() {
	t, ctx := f.t, context.Background()
	draft := func() *countersign.Draft {
		return &countersign.Draft{
			Fields: countersign.Fields{
				"party_a": "Zoë Müller GmbH", "party_b": "北京 Trading Ltd.", "effective_date": "2025-03-01",
				"term_months": float64(24), "governing_law": "Sweden", "currency": "SEK",
			},
			Evidence: map[string]countersign.Evidence{
				"party_a":        evidenceOf(t, "Zoë Müller GmbH"),
				"party_b":        evidenceOf(t, "北京 Trading Ltd."),
				"effective_date": evidenceOf(t, "effective as of March 1, 2025"),
				"term_months":    evidenceOf(t, "24 months"),
				// Offsets in bytes: the quote is found elsewhere.
				"governing_law": {Quote: "laws of Sweden", Start: len(contract) - 15, End: len(contract) - 1},
				"currency":      {Quote: "kronor", Start: 0, End: 6},
			},
			Extractor: countersign.ExtractorOpenAI, Model: "gpt-test-1", Prompt: "prompt-v7",
		}
	}
	scores := map[string]float64{"party_a": 0.95, "party_b": 0.42, "effective_date": 0.8, "term_months": 0.99, "governing_law": 0.2, "currency": 0.6}
	confidence := func(scale float64) *countersign.Confidence {
		c := &countersign.Confidence{Overall: 0.2 * scale, Weakest: "governing_law", Fields: map[string]countersign.FieldScore{}}
		for name, s := range scores {
			c.Fields[name] = countersign.FieldScore{Score: s * scale, Raw: s, Reasons: []string{name + " reason"}}
		}
		return c
	}
	put := func(id, taskType, version string, status countersign.Status, conf *countersign.Confidence, final *countersign.Final) {
		doc := &countersign.Document{ID: id, TaskType: taskType, TaskTypeVersion: version, Content: contract, ContentSHA256: id,
			Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: f.now.Add(-3 * time.Hour)}
		if id == docA {
			doc.Metadata = map[string]string{"filename": "northwind-msa.txt"}
		}
		if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		route := &countersign.Route{Outcome: countersign.OutcomeHumanReview, Reasons: []string{"policy mode hitl: every document is reviewed by a person"}, Mode: countersign.ModeHITL, PolicyVersion: "policy-v3"}
		if err := f.store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: draft(), Confidence: conf, Route: route, Final: final}); err != nil {
			t.Fatal(err)
		}
	}
	review := func(id, doc, taskType string, created time.Time, due time.Duration, conf float64) {
		r := &countersign.Review{ID: id, DocumentID: doc, TaskType: taskType, Kind: countersign.ReviewGate, Status: countersign.ReviewPending,
			CreatedAt: created, DueAt: f.now.Add(due), Confidence: conf, Reasons: []string{"weakest field " + id}}
		if id == docA+"-r1" {
			r.Reasons = append(r.Reasons, `risk rule "high value" matched: has(fields.contract_value) && fields.contract_value > 1000000`)
		}
		if err := f.store.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	pii, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	piiType, _ := pii.Get("pii-extraction")

	put(docA, "contract-review", f.version, countersign.StatusAwaitingReview, confidence(1), nil)
	review(docA+"-r1", docA, "contract-review", f.now.Add(-2*time.Hour), 2*time.Hour, 0.5)
	put(docB, "contract-review", f.version, countersign.StatusAwaitingReview, confidence(0.5), nil)
	review(docB+"-r1", docB, "contract-review", f.now.Add(-90*time.Minute), 2*time.Hour, 0.1)
	put(docC, "pii-extraction", piiType.Version, countersign.StatusAwaitingReview, confidence(1), nil)
	review(docC+"-r1", docC, "pii-extraction", f.now.Add(-30*time.Minute), time.Hour, 0.9)

	// D: rita corrected term_months through the web page; final.
	d := draft()
	final := countersign.Correct(d.Fields, countersign.Fields{"term_months": float64(36)})
	put(docD, "contract-review", f.version, countersign.StatusAccepted, confidence(1), &countersign.Final{
		Fields: final, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita", DecidedAt: f.now,
		Diff: countersign.Diff(d.Fields, final),
	})
	review(docD+"-r1", docD, "contract-review", f.now.Add(-time.Hour), time.Hour, 0.5)
	f.close(docD+"-r1", "rita", countersign.ActionCorrect)
	data := func(v map[string]any) json.RawMessage {
		raw, err := audit.Canonical(v)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for i, e := range []countersign.AuditEvent{
		{Type: countersign.EventDocumentReceived, Actor: "sam", Channel: countersign.ChannelAPI, Data: data(map[string]any{"task_type": "contract-review", "batch": "data-room-7"})},
		{Type: countersign.EventRouteDecided, Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, Data: data(map[string]any{"outcome": "human_review", "reasons": []string{"policy mode hitl", "risk rule big deal"},
			"rules": []any{map[string]any{"kind": "risk", "name": "big deal", "when": "fields.value > 1000 && true"}}})},
		{Type: countersign.EventDecisionRecorded, Actor: "rita", Channel: countersign.ChannelWeb, Data: data(map[string]any{"action": "correct", "review_id": docD + "-r1", "role": "reviewer",
			"fields": map[string]any{"term_months": 36}, "reason": "the term is " + strings.Repeat("thirty-six months ", 30) + "END"}), TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{Type: countersign.EventDocumentFinalized, Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, Data: data(map[string]any{"outcome": "human_review", "status": "accepted",
			"diff": []any{map[string]any{"field": "term_months", "change": "corrected", "draft": 24, "final": 36}, map[string]any{"field": "party_a", "change": "unchanged", "draft": "Acme", "final": "Acme"}}})},
	} {
		e.ID = "review/" + docD + "/" + string(rune('1'+i))
		e.DocumentID = docD
		e.At = f.now
		if _, err := f.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// close records that user decided a review, closing it.
func (f *fixture) close(reviewID, user string, action countersign.Action) {
	f.t.Helper()
	rv, err := f.store.GetReview(context.Background(), reviewID)
	if err != nil {
		f.t.Fatal(err)
	}
	d := &countersign.Decision{ID: reviewID + "/1", ReviewID: reviewID, DocumentID: rv.DocumentID, Action: action, Actor: user,
		Role: countersign.RoleReviewer, Channel: countersign.ChannelWeb, At: f.now}
	if err := f.store.RecordDecision(context.Background(), d, true); err != nil {
		f.t.Fatal(err)
	}
}

// fakeDecider records the decisions the page sends and answers them as
// recorded, or with err. With check set, a decision check refuses is
// answered with its refusal and not recorded.
type fakeDecider struct {
	store *sqlite.Store
	mu    sync.Mutex
	calls []decideCall
	err   error
	check func(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, req dispatch.Decision, key string) error
}

type decideCall struct {
	ReviewID string
	Caller   countersign.Principal
	Channel  countersign.Channel
	Req      dispatch.Decision
	Key      string
}

func (d *fakeDecider) Decide(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, req dispatch.Decision, key string) (*dispatch.Decided, error) {
	if d.check != nil {
		if err := d.check(ctx, reviewID, caller, ch, req, key); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, decideCall{reviewID, caller, ch, req, key})
	if d.err != nil {
		return nil, d.err
	}
	rv, err := d.store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, err
	}
	return &dispatch.Decided{
		Decision:   countersign.Decision{ReviewID: reviewID, Action: req.Action, Actor: caller.User},
		DocumentID: rv.DocumentID,
		Status:     countersign.StatusAccepted,
	}, nil
}

func (d *fakeDecider) taken() []decideCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]decideCall(nil), d.calls...)
}

// browser is one person's cookie jar; it does not follow redirects, so
// tests see them.
type browser struct {
	f      *fixture
	client *http.Client
	csrf   string
}

func (f *fixture) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// as signs in with role's token through the sign-in form.
func (f *fixture) as(role countersign.Role) *browser {
	f.t.Helper()
	return f.withToken(f.tokens[role])
}

// withToken signs in with secret through the sign-in form.
func (f *fixture) withToken(secret string) *browser {
	f.t.Helper()
	b := f.anonymous()
	resp := b.signIn(secret, "")
	if resp.status != http.StatusSeeOther {
		f.t.Fatalf("sign-in = %d %s", resp.status, resp.body)
	}
	// Every signed-in page, even a refusal, has the sign-out form and so
	// the session's CSRF token.
	page := b.get("/ui/queue")
	b.csrf = fieldValue(f.t, page.body, "csrf")
	return b
}

type answer struct {
	status int
	body   string
	header http.Header
	resp   *http.Response
}

func (b *browser) do(req *http.Request) answer {
	b.f.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(raw), header: resp.Header, resp: resp}
}

func (b *browser) get(path string, headers ...string) answer {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.f.url+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, headers ...string) answer {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.f.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// signIn fills in the sign-in form with secret.
func (b *browser) signIn(secret, next string, headers ...string) answer {
	b.f.t.Helper()
	form := b.get("/ui/login?next=" + url.QueryEscape(next))
	return b.post("/ui/login", url.Values{"csrf": {fieldValue(b.f.t, form.body, "csrf")}, "token": {secret}, "next": {next}}, headers...)
}

// decide sends a decision form with the session's CSRF token.
func (b *browser) decide(reviewID string, form url.Values) answer {
	b.f.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.post("/ui/reviews/"+reviewID+"/decision", form)
}

func fieldValue(t testing.TB, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s field in the page:\n%s", name, body)
	}
	return m[1]
}

func cookie(a answer, name string) *http.Cookie {
	for _, c := range a.resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	b := f.anonymous()

	if got := b.get("/ui/queue?task_type=pii-extraction"); got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/login?next=%2Fui%2Fqueue%3Ftask_type%3Dpii-extraction" {
		t.Fatalf("queue without signing in = %d to %q, want 303 to the sign-in page and back", got.status, got.header.Get("Location"))
	}
	if got := b.get("/"); got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/" {
		t.Fatalf("GET / = %d to %q, want 303 to /ui/", got.status, got.header.Get("Location"))
	}

	// The sign-in form itself is protected: no CSRF token, no session.
	refused := b.post("/ui/login", url.Values{"token": {f.tokens[countersign.RoleReviewer]}})
	if refused.status != http.StatusForbidden || cookie(refused, "countersign_session") != nil || !strings.Contains(refused.body, "CSRF") {
		t.Fatalf("sign-in without the form's CSRF token = %d, session cookie %v", refused.status, cookie(refused, "countersign_session"))
	}

	bad := b.signIn("cs_not-a-real-token", "")
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "unknown token") || cookie(bad, "countersign_session") != nil {
		t.Fatalf("sign-in with an unknown token = %d, want 401 saying so and no session", bad.status)
	}

	ok := b.signIn(f.tokens[countersign.RoleReviewer], "/ui/reviews/"+docA+"-r1")
	c := cookie(ok, "countersign_session")
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/ui/reviews/"+docA+"-r1" || c == nil {
		t.Fatalf("sign-in = %d to %q, cookie %v; want 303 back to the review, with a session", ok.status, ok.header.Get("Location"), c)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui/" || c.Secure {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Strict, path /ui/, and not Secure over plain HTTP", c)
	}
	if page := b.get("/ui/reviews/" + docA + "-r1"); page.status != http.StatusOK || !strings.Contains(page.body, "rita") {
		t.Fatalf("the review after signing in = %d", page.status)
	}

	// Behind a TLS-terminating proxy the cookie is Secure; a target off
	// the site is ignored.
	tls := f.anonymous().signIn(f.tokens[countersign.RoleAuditor], "https://evil.example/ui/", "X-Forwarded-Proto", "https")
	if c := cookie(tls, "countersign_session"); c == nil || !c.Secure || tls.header.Get("Location") != "/ui/queue" {
		t.Fatalf("sign-in behind TLS: cookie %+v, to %q; want a Secure cookie and the queue", c, tls.header.Get("Location"))
	}
}

func TestSignOutAndRevocation(t *testing.T) {
	f := newFixture(t)
	b := f.as(countersign.RoleReviewer)

	if got := b.post("/ui/logout", url.Values{}); got.status != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token = %d, want 403", got.status)
	}
	if got := b.get("/ui/queue"); got.status != http.StatusOK {
		t.Fatalf("still signed in after a refused sign-out: %d", got.status)
	}
	out := b.post("/ui/logout", url.Values{"csrf": {b.csrf}})
	if c := cookie(out, "countersign_session"); out.status != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out = %d, cookie %+v; want the cookie removed", out.status, c)
	}
	if got := b.get("/ui/queue"); got.status != http.StatusSeeOther {
		t.Fatalf("queue after signing out = %d, want a redirect to sign in", got.status)
	}

	// A revoked token stops working at once, for pages and for the
	// queue's background updates.
	a := f.as(countersign.RoleApprover)
	tokens, err := f.store.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if tok.User == "anna" {
			if _, err := auth.Revoke(context.Background(), f.store, "ada", countersign.ChannelCLI, tok.ID, "left", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := a.get("/ui/queue"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/ui/login") {
		t.Fatalf("queue with a revoked token = %d to %q, want the sign-in page", got.status, got.header.Get("Location"))
	}
	if got := a.get("/ui/queue/rows", "HX-Request", "true"); got.status != http.StatusUnauthorized || got.header.Get("HX-Redirect") != "/ui/login" {
		t.Fatalf("background update with a revoked token = %d, HX-Redirect %q", got.status, got.header.Get("HX-Redirect"))
	}
}

// TestPagesAdmitTheAPIsRoles asks every page as every role and the API
// route that serves the same data with the same token: each refuses (403)
// exactly the roles the other refuses.
func TestPagesAdmitTheAPIsRoles(t *testing.T) {
	f := newFixture(t)
	pairs := []struct {
		page, apiMethod, apiPath string
	}{
		{"/ui/queue", "GET", "/v1/reviews"},
		{"/ui/queue/rows", "GET", "/v1/reviews"},
		{"/ui/reviews/" + docA + "-r1", "GET", "/v1/reviews"},
		{"/ui/documents/" + docD, "GET", "/v1/documents/" + docD + "/audit"},
		{"/ui/documents/" + docD + "/pages/1", "GET", "/v1/documents/" + docD + "/pages/1"},
		{"/ui/audit/verify", "GET", "/v1/audit/verify"},
		{"/ui/overview", "GET", "/v1/stats?task_type=nope"}, // answered before Temporal is needed
		{"/ui/submit", "POST", "/v1/documents"},
		{"POST /ui/reviews/nope-r1/decision", "POST", "/v1/reviews/nope-r1/decision"},
	}
	for _, role := range countersign.Roles {
		b := f.as(role)
		for _, p := range pairs {
			var page answer
			if path, ok := strings.CutPrefix(p.page, "POST "); ok {
				page = b.decide(strings.TrimSuffix(strings.TrimPrefix(path, "/ui/reviews/"), "/decision"), url.Values{"action": {"approve"}})
			} else {
				page = b.get(p.page)
			}
			req, _ := http.NewRequest(p.apiMethod, f.url+p.apiPath, strings.NewReader(`{"action":"approve"}`))
			req.Header.Set("Authorization", "Bearer "+f.tokens[role])
			apiAnswer := b.do(req)
			pageRefused, apiRefused := page.status == http.StatusForbidden, apiAnswer.status == http.StatusForbidden
			if pageRefused != apiRefused {
				t.Errorf("%s as %s: page %d, API %s %s %d: they must admit the same roles", p.page, role, page.status, p.apiMethod, p.apiPath, apiAnswer.status)
			}
			if pageRefused && !strings.Contains(page.body, string(role)) {
				t.Errorf("%s as %s: the refusal does not say which role was refused:\n%s", p.page, role, page.body)
			}
		}
	}
}

func TestQueue(t *testing.T) {
	f := newFixture(t)
	b := f.as(countersign.RoleReviewer)
	page := b.get("/ui/queue")
	if page.status != http.StatusOK {
		t.Fatalf("queue = %d", page.status)
	}
	// Due first (C is due in 1h), then the least confident (B before A).
	// D is closed and not listed.
	order := regexp.MustCompile(`href="/ui/reviews/([a-z]+)-r1"`)
	var got []string
	for _, m := range order.FindAllStringSubmatch(page.body, -1) {
		got = append(got, m[1][:1])
	}
	if strings.Join(got, "") != "bac" {
		t.Fatalf("queue order = %v, want b, a, c (none overdue: the least confident first)", got)
	}
	if !strings.Contains(page.body, "confidence 0.10: the least confident next") {
		t.Fatalf("the queue does not say why a row stands where it does")
	}
	byDue := b.get("/ui/queue?order=due")
	got = nil
	for _, m := range order.FindAllStringSubmatch(byDue.body, -1) {
		got = append(got, m[1][:1])
	}
	if strings.Join(got, "") != "cba" || !strings.Contains(byDue.body, "the soonest due first") || !strings.Contains(byDue.body, `hx-get="/ui/queue/rows?order=due"`) {
		t.Fatalf("queue by due = %v, want c, b, a (due first, then least confident), polling in that order", got)
	}
	for _, want := range []string{`hx-get="/ui/queue/rows"`, `hx-trigger="every 5s"`, "2h 0m", "1h 30m", "in 1h 59m", "weakest field " + docC + "-r1",
		// A document is named by its file, else by its ID.
		`<td class="doc-name">northwind-msa.txt</td>`, `<td class="doc-name"><span class="muted mono" title="` + docB + `">`,
		// A rule that matched in the task type's words, its expression on hovering.
		`<span title="has(fields.contract_value) &amp;&amp; fields.contract_value &gt; 1000000">Risk rule “high value”: the contract is worth more than 1,000,000, so a person checks every term</span>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}

	rows := b.get("/ui/queue/rows?task_type=contract-review")
	if rows.status != http.StatusOK || strings.Contains(rows.body, "<html") || strings.Contains(rows.body, docC) ||
		!strings.Contains(rows.body, docA) || !strings.Contains(rows.body, `hx-get="/ui/queue/rows?task_type=contract-review"`) {
		t.Fatalf("filtered rows fragment = %d:\n%s", rows.status, rows.body)
	}

	// Auditors read the queue, and are told they cannot decide.
	if got := f.as(countersign.RoleAuditor).get("/ui/queue"); got.status != http.StatusOK || !strings.Contains(got.body, "deciding needs the reviewer, approver or admin role") {
		t.Fatalf("auditor's queue = %d", got.status)
	}
}

// TestQueuePages: past a page of pending reviews, the queue shows the
// soonest due of all of them, as the store sorts them, and links to the
// next page; its updates keep to the page.
func TestQueuePages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 150 more reviews, created newest-due-first so that creation order
	// and due order differ: q149 is due soonest (after C), q0 last.
	for i := range 150 {
		id := fmt.Sprintf("%032d", i)
		doc := &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: f.version, Content: contract, ContentSHA256: id,
			Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: f.now.Add(-time.Hour)}
		if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "contract-review", Kind: countersign.ReviewGate,
			CreatedAt: f.now.Add(time.Duration(i-200) * time.Second), DueAt: f.now.Add(3*time.Hour + time.Duration(150-i)*time.Minute), Confidence: 0.5}
		if err := f.store.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b := f.as(countersign.RoleReviewer)
	ids := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`href="/ui/reviews/([0-9a-z]+)-r1"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	// In value order: B (confidence 0.1), then the 0.5s the soonest due
	// first (A, then 149 down to 0), then C (0.9), across two pages.
	value := b.get("/ui/queue")
	got := ids(value.body)
	if len(got) != 100 || got[0] != docB || got[1] != docA || got[2] != fmt.Sprintf("%032d", 149) || got[99] != fmt.Sprintf("%032d", 52) {
		t.Fatalf("first page by value = %d rows, from %v to %v; want B, A, then reviews 149 down to 52", len(got), got[:min(3, len(got))], got[len(got)-1:])
	}
	next := regexp.MustCompile(`href="(/ui/queue\?after=[^"]+)" rel="next"`).FindStringSubmatch(value.body)
	if next == nil {
		t.Fatalf("the first page by value links to no next page")
	}
	if got = ids(b.get(html.UnescapeString(next[1])).body); len(got) != 53 || got[0] != fmt.Sprintf("%032d", 51) || got[52] != docC {
		t.Fatalf("second page by value = %d rows, %v…; want reviews 51 down to 0, then C", len(got), got[:min(2, len(got))])
	}

	first := b.get("/ui/queue?order=due")
	got = ids(first.body)
	// C, B, A (due in 1h and 2h), then the 97 soonest of the 150.
	if len(got) != 100 || got[0] != docC || got[1] != docB || got[2] != docA || got[3] != fmt.Sprintf("%032d", 149) || got[99] != fmt.Sprintf("%032d", 53) {
		t.Fatalf("first page = %d rows, from %v to %v; want C, B, A, then reviews 149 down to 53", len(got), got[:min(4, len(got))], got[len(got)-1:])
	}
	next = regexp.MustCompile(`href="(/ui/queue\?after=[^"]+&amp;order=due)" rel="next"`).FindStringSubmatch(first.body)
	if next == nil || !strings.Contains(first.body, "Pending 1–100 ·") {
		t.Fatalf("first page lacks the link to the next and its position:\n%s", first.body)
	}
	second := b.get(html.UnescapeString(next[1]))
	got = ids(second.body)
	if len(got) != 53 || got[0] != fmt.Sprintf("%032d", 52) || got[52] != fmt.Sprintf("%032d", 0) || !strings.Contains(second.body, "Pending 101–153 of 153") ||
		strings.Contains(second.body, `rel="next"`) || !strings.Contains(second.body, `href="/ui/queue?order=due">First page`) {
		t.Fatalf("second page = %d rows %v…; want reviews 52 down to 0, numbered 101–153, with a link back and none forward", len(got), got[:min(2, len(got))])
	}
	// The page's updates fetch that page.
	poll := regexp.MustCompile(`hx-get="(/ui/queue/rows\?[^"]+)"`).FindStringSubmatch(second.body)
	if poll == nil || !strings.Contains(poll[1], "after=") {
		t.Fatalf("second page polls %v, want its own rows", poll)
	}
	if rows := ids(b.get(html.UnescapeString(poll[1])).body); len(rows) != 53 || rows[0] != fmt.Sprintf("%032d", 52) {
		t.Fatalf("second page's update = %d rows from %v, want the same 53", len(rows), rows[:min(1, len(rows))])
	}
	if bad := b.get("/ui/queue?after=nonsense"); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "invalid cursor") {
		t.Fatalf("a bad cursor = %d, want 400 saying so", bad.status)
	}
}

// TestReviewGroups: a reviewer outside a task type's review groups neither
// sees nor decides its documents; approvers stand above the groups.
func TestReviewGroups(t *testing.T) {
	f := newFixture(t, func(types *tasktype.Registry) {
		tt, err := types.Get("contract-review")
		if err != nil {
			t.Fatal(err)
		}
		tt.ReviewGroups = []string{"contracts"}
	})
	issue := func(user string, groups ...string) *browser {
		secret, _, err := auth.Issue(context.Background(), f.store, "test", countersign.ChannelCLI, user, countersign.RoleReviewer, 0, time.Now(), groups...)
		if err != nil {
			t.Fatal(err)
		}
		return f.withToken(secret)
	}
	outsider, member := issue("cleo", "claims"), issue("cory", "contracts")
	listed := func(b *browser) string {
		var ids []string
		for _, m := range regexp.MustCompile(`href="/ui/reviews/([a-z])[a-z]*-r1"`).FindAllStringSubmatch(b.get("/ui/queue").body, -1) {
			ids = append(ids, m[1])
		}
		return strings.Join(ids, "")
	}
	if got := listed(outsider); got != "c" {
		t.Errorf("the outsider's queue = %q, want only the pii review", got)
	}
	if got := listed(member); got != "bac" {
		t.Errorf("the member's queue = %q, want every review", got)
	}
	if got := listed(f.as(countersign.RoleApprover)); got != "bac" {
		t.Errorf("the approver's queue = %q, want every review", got)
	}
	for _, got := range []answer{
		outsider.get("/ui/reviews/" + docA + "-r1"),
		outsider.get("/ui/documents/" + docD),
		outsider.decide(docA+"-r1", url.Values{"action": {"approve"}}),
	} {
		if got.status != http.StatusForbidden || !strings.Contains(got.body, "reviewed by the groups contracts") {
			t.Errorf("the outsider got %d:\n%s", got.status, got.body)
		}
	}
	if calls := f.decider.taken(); len(calls) != 0 {
		t.Fatalf("the outsider's decision was sent: %+v", calls)
	}
	if got := member.get("/ui/reviews/" + docA + "-r1"); got.status != http.StatusOK {
		t.Errorf("the member's review page = %d", got.status)
	}
}

func TestReviewPage(t *testing.T) {
	f := newFixture(t)
	page := f.as(countersign.RoleReviewer).get("/ui/reviews/" + docA + "-r1")
	if page.status != http.StatusOK {
		t.Fatalf("review = %d:\n%s", page.status, page.body)
	}
	// Each quote is highlighted where it stands, counted in characters.
	for _, quote := range []string{"Zoë Müller GmbH", "北京 Trading Ltd.", "effective as of March 1, 2025", "24 months", "laws of Sweden"} {
		if !regexp.MustCompile(`<mark data-f="\d+">` + regexp.QuoteMeta(htmlEscape(quote)) + `</mark>`).MatchString(page.body) {
			t.Errorf("%q is not highlighted whole", quote)
		}
	}
	// Fields: least confident first, each linking to its evidence.
	var order []string
	for _, m := range regexp.MustCompile(`<label for="field-\d+" class="field-name">([a-z_]+)</label>`).FindAllStringSubmatch(page.body, -1) {
		order = append(order, m[1])
	}
	// The schema's other fields have no score and come first.
	if got := strings.Join(order, " "); !strings.HasSuffix(got, "governing_law party_b currency effective_date party_a term_months") {
		t.Fatalf("field order = %s, want the least confident first", got)
	}
	for _, want := range []string{
		`data-evidence=`, "the quote is in the document, but not at the place the draft gave", "the quote is not in the document",
		`type="number" step="1"`, `min="1"`, "governing_law reason", "Approve the draft", `name="reason"`, "Submit correction",
		"weakest field " + docA + "-r1", `aria-describedby="desc-`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	for _, id := range regexp.MustCompile(`href="#(ev-\d+)"`).FindAllStringSubmatch(page.body, -1) {
		if !strings.Contains(page.body, `id="`+id[1]+`"`) {
			t.Errorf("field link to #%s has no anchor in the text", id[1])
		}
	}

	// An auditor sees the same review and no form to decide with.
	read := f.as(countersign.RoleAuditor).get("/ui/reviews/" + docA + "-r1")
	if read.status != http.StatusOK || strings.Contains(read.body, "Approve the draft") || strings.Contains(read.body, `name="field.`) || !strings.Contains(read.body, "<mark") {
		t.Fatalf("auditor's review page = %d, with forms or without highlights", read.status)
	}
	if got := f.as(countersign.RoleReviewer).get("/ui/reviews/nope-r1"); got.status != http.StatusNotFound {
		t.Fatalf("unknown review = %d, want 404", got.status)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;").Replace(s)
}

func TestDecisionForms(t *testing.T) {
	f := newFixture(t)
	rita := f.as(countersign.RoleReviewer)
	review := docA + "-r1"

	refusals := []struct {
		name   string
		b      *browser
		form   url.Values
		header []string
		status int
		says   string
	}{
		{"no CSRF token", rita, url.Values{"action": {"approve"}, "csrf": {"-"}}, nil, http.StatusForbidden, "CSRF"},
		{"another session's CSRF token", rita, url.Values{"action": {"approve"}, "csrf": {f.as(countersign.RoleApprover).csrf}}, nil, http.StatusForbidden, "CSRF"},
		{"from another site", rita, url.Values{"action": {"approve"}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, ""},
		{"an auditor", f.as(countersign.RoleAuditor), url.Values{"action": {"approve"}}, nil, http.StatusForbidden, "Auditors read everything and change nothing"},
		{"a submitter", f.as(countersign.RoleSubmitter), url.Values{"action": {"approve"}}, nil, http.StatusForbidden, "may not decide"},
		{"a correction failing the schema", rita, url.Values{"action": {"correct"}, "field.term_months": {"two years"}}, nil, http.StatusUnprocessableEntity, "term_months"},
		{"a required field emptied", rita, url.Values{"action": {"correct"}, "field.party_b": {""}}, nil, http.StatusUnprocessableEntity, "required field is missing"},
		{"a correction that changes nothing", rita, url.Values{"action": {"correct"}, "field.term_months": {"24"}}, nil, http.StatusUnprocessableEntity, "Nothing was changed"},
		{"a rejection without a reason", rita, url.Values{"action": {"reject"}, "reason": {"  "}}, nil, http.StatusUnprocessableEntity, "needs a reason"},
		{"an unknown action", rita, url.Values{"action": {"escalate"}}, nil, http.StatusUnprocessableEntity, "Unknown action"},
	}
	for _, c := range refusals {
		form := c.form
		if form.Get("csrf") == "" {
			form.Set("csrf", c.b.csrf)
		}
		got := c.b.post("/ui/reviews/"+review+"/decision", form, c.header...)
		if got.status != c.status || !strings.Contains(got.body, c.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", c.name, got.status, c.status, c.says, got.body)
		}
	}
	if calls := f.decider.taken(); len(calls) != 0 {
		t.Fatalf("refused forms reached the workflow: %+v", calls)
	}

	// What was entered survives a refusal, marked where it is wrong.
	bad := rita.decide(review, url.Values{"action": {"correct"}, "field.term_months": {"two years"}, "field.party_a": {"Zoë Müller AB"}})
	if !strings.Contains(bad.body, `value="two years"`) || !strings.Contains(bad.body, `value="Zoë Müller AB"`) || !strings.Contains(bad.body, `aria-invalid="true"`) {
		t.Fatalf("the refused correction lost what was entered:\n%s", bad.body)
	}

	// A valid correction is sent as a patch of the changed fields only,
	// through the web channel, with the form's idempotency key.
	page := rita.get("/ui/reviews/" + review)
	key := fieldValue(t, page.body, "key")
	ok := rita.decide(review, url.Values{"action": {"correct"}, "key": {key}, "field.term_months": {"36"}, "field.party_a": {"Zoë Müller GmbH"}, "field.currency": {""}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/ui/documents/"+docA+"?decided=correct" {
		t.Fatalf("correction = %d to %q:\n%s", ok.status, ok.header.Get("Location"), ok.body)
	}
	calls := f.decider.taken()
	if len(calls) != 1 {
		t.Fatalf("decisions sent = %+v, want one", calls)
	}
	c := calls[0]
	patch, _ := json.Marshal(c.Req.Fields)
	if c.ReviewID != review || c.Caller.User != "rita" || c.Caller.Role != countersign.RoleReviewer || c.Channel != countersign.ChannelWeb ||
		c.Req.Action != countersign.ActionCorrect || string(patch) != `{"currency":null,"term_months":36}` || c.Key != key {
		t.Fatalf("decision sent = %+v, fields %s", c, patch)
	}

	// Approve sends no fields; reject sends the reason.
	rita.decide(docB+"-r1", url.Values{"action": {"approve"}})
	rita.decide(docC+"-r1", url.Values{"action": {"reject"}, "reason": {" unsigned copy "}})
	calls = f.decider.taken()
	if len(calls) != 3 || calls[1].Req.Action != countersign.ActionApprove || calls[1].Req.Fields != nil ||
		calls[2].Req.Action != countersign.ActionReject || calls[2].Req.Reason != "unsigned copy" {
		t.Fatalf("approve and reject sent %+v", calls[1:])
	}
}

func TestClosedMeanwhile(t *testing.T) {
	f := newFixture(t)
	rita := f.as(countersign.RoleReviewer)

	// Someone else's decision reached the workflow first: the update is
	// refused with a conflict, and the page says who decided what.
	f.close(docA+"-r1", "anna", countersign.ActionApprove)
	f.decider.err = countersign.Errorf(countersign.CodeConflict, "review is already closed")
	for _, form := range []url.Values{{"action": {"approve"}}, {"action": {"correct"}, "field.term_months": {"36"}}} {
		got := rita.decide(docA+"-r1", form)
		if got.status != http.StatusConflict || !strings.Contains(got.body, "This review was closed before your decision reached it: anna decided approve") ||
			!strings.Contains(got.body, "Your decision was not recorded") {
			t.Fatalf("decision on a review closed meanwhile = %d:\n%s", got.status, got.body)
		}
	}
	if calls := f.decider.taken(); len(calls) != 0 {
		t.Fatalf("a decision on a closed review was sent: %+v", calls)
	}

	// Closed between the store read and the update: the workflow's
	// conflict is shown the same way.
	f.decider.err = nil
	f.decider.err = countersign.Errorf(countersign.CodeConflict, "review %s is already closed: otto decided reject", docB+"-r1")
	got := rita.decide(docB+"-r1", url.Values{"action": {"approve"}})
	if got.status != http.StatusConflict || !strings.Contains(got.body, "already closed") {
		t.Fatalf("workflow conflict = %d:\n%s", got.status, got.body)
	}
}

func TestDocumentPage(t *testing.T) {
	f := newFixture(t)
	page := f.as(countersign.RoleReviewer).get("/ui/documents/" + docD + "?decided=correct")
	if page.status != http.StatusOK {
		t.Fatalf("document page = %d:\n%s", page.status, page.body)
	}
	for _, want := range []string{
		"Your decision (<strong>correct</strong>) was recorded",
		"Document received", "Route decided", "Decision recorded", "Document finalized",
		"policy mode hitl; risk rule big deal", // the route's reasons
		"by <strong>rita</strong> via <strong>web</strong>",
		"4bf92f3577b34da6a3ce929d0e0e4736",                // trace ID
		"policy-v3", "gpt-test-1", "prompt-v7", f.version, // versions
		`<tr class="change-corrected"><th scope="row">term_months</th><td>24</td><td>36</td>`,
		"4 of this document's 4 events recompute",
		// The timeline in words and tables, the raw data behind a toggle.
		"sam submitted a contract-review document, in batch data-room-7.",
		"rita (reviewer) corrected review " + docD + "-r1: the term is",
		"<tr><td>term_months</td><td>36</td></tr>",
		"Finalized: accepted (human review), 1 of 2 fields changed from the draft.",
		`<tr class="changed"><td>term_months</td><td>24</td><td>36</td><td>corrected</td></tr>`,
		`<details class="raw"><summary>Raw event data</summary>`,
		"thirty-six months END", // whole in the raw data, clipped elsewhere
		"risk rule &#34;big deal&#34;: fields.value &gt; 1000 &amp;&amp; true", // a rule in words, not JSON
		"Verifying the whole chain needs the approver, auditor or admin role",
		`<dt>Disposition</dt><dd><strong class="disposition-analyst">analyst-validated</strong>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("document page lacks %q", want)
		}
	}

	otto := f.as(countersign.RoleAuditor)
	withButton := otto.get("/ui/documents/" + docD)
	if !strings.Contains(withButton.body, `hx-get="/ui/audit/verify"`) || !strings.Contains(withButton.body, `href="?verify=1#chain"`) {
		t.Fatalf("the auditor's document page has no verify button:\n%s", withButton.body)
	}
	// The fixture writes its documents' rows without the events that
	// would have recorded them, as someone editing the database would:
	// the chain itself holds, the stored rows do not match it, and the page
	// says so rather than "verified" (the browser test sees a real stack
	// verify).
	verified := otto.get("/ui/documents/" + docD + "?verify=1")
	fragment := otto.get("/ui/audit/verify", "HX-Request", "true")
	for _, got := range []answer{verified, fragment} {
		if got.status != http.StatusOK || !strings.Contains(got.body, "Stored rows differ from the chain:") ||
			!strings.Contains(got.body, "document "+docA+": status is &#34;awaiting_review&#34; in the row") || strings.Contains(got.body, "Chain verified:") {
			t.Fatalf("verify = %d:\n%s", got.status, got.body)
		}
	}
	if strings.Contains(fragment.body, "<html") {
		t.Fatalf("the verify fragment is a whole page")
	}
	if got := otto.get("/ui/documents/nope"); got.status != http.StatusNotFound {
		t.Fatalf("unknown document = %d", got.status)
	}
}

func TestOverview(t *testing.T) {
	f := newFixture(t)
	page := f.as(countersign.RoleApprover).get("/ui/overview?task_type=contract-review")
	if page.status != http.StatusOK {
		t.Fatalf("overview = %d:\n%s", page.status, page.body)
	}
	// D's term_months was corrected and its other fields kept: a bar of
	// 100% for term_months and 0% for the others, drawn in the page.
	for _, want := range []string{`<svg class="chart"`, "Correction rate by field, contract-review", ">term_months</text>", ">100%</text>", ">0%</text>",
		"awaiting_review", `width="320"`, "<rect"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if got := f.as(countersign.RoleApprover).get("/ui/overview?task_type=nope"); got.status != http.StatusNotFound {
		t.Fatalf("overview of an unknown task type = %d", got.status)
	}
}

func TestStaticAndHeaders(t *testing.T) {
	f := newFixture(t)
	b := f.anonymous()
	login := b.get("/ui/login")
	if csp := login.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || login.header.Get("X-Frame-Options") != "DENY" ||
		login.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page headers = %v", login.header)
	}
	src := regexp.MustCompile(`src="(/ui/static/vendor/htmx.min.js\?v=[0-9a-f]+)"`).FindStringSubmatch(login.body)
	if src == nil {
		t.Fatalf("the page does not load the vendored htmx:\n%s", login.body)
	}
	js := b.get(src[1])
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") || !strings.Contains(js.header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(js.body, "var htmx=") {
		t.Fatalf("htmx = %d %v", js.status, js.header)
	}
	for _, path := range []string{"/ui/static/app.js", "/ui/static/app.css", "/ui/static/vendor/htmx.LICENSE"} {
		if got := b.get(path); got.status != http.StatusOK {
			t.Errorf("%s = %d", path, got.status)
		}
	}
	if got := f.as(countersign.RoleReviewer).get("/ui/nothing-here"); got.status != http.StatusNotFound || !strings.Contains(got.body, "<html") {
		t.Fatalf("an unknown page = %d", got.status)
	}
}

// TestClaimsOnThePage: the review page offers an unclaimed review to
// claim, tells its holder the claim is theirs and renews it while open,
// tells others who holds it, and lets an approver release it; the queue
// marks claimed reviews and takes the next review for a person.
func TestClaimsOnThePage(t *testing.T) {
	f := newFixture(t)
	secret, _, err := auth.Issue(context.Background(), f.store, "test", countersign.ChannelCLI, "rob", countersign.RoleReviewer, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rita, rob, anna := f.as(countersign.RoleReviewer), f.withToken(secret), f.as(countersign.RoleApprover)
	review := "/ui/reviews/" + docA + "-r1"
	if page := rita.get(review); !strings.Contains(page.body, "Nobody is working on this review") || !strings.Contains(page.body, `id="claim-review"`) {
		t.Fatalf("an unclaimed review's page offers no claim:\n%s", page.body)
	}
	if got := rita.post(review+"/claim", url.Values{"csrf": {rita.csrf}}); got.status != http.StatusSeeOther || got.header.Get("Location") != review {
		t.Fatalf("claim = %d, Location %q", got.status, got.header.Get("Location"))
	}
	page := rita.get(review)
	for _, want := range []string{"You hold this review until", `hx-post="` + review + `/claim?renew=1"`, `id="release-review"`} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("the holder's page lacks %q", want)
		}
	}
	if got := rita.post(review+"/claim?renew=1", url.Values{"csrf": {rita.csrf}}); got.status != http.StatusNoContent {
		t.Fatalf("renewal = %d %s, want 204", got.status, got.body)
	}
	page = rob.get(review)
	if !strings.Contains(page.body, "<strong>rita</strong> holds this review until") || strings.Contains(page.body, `id="release-review"`) || strings.Contains(page.body, `id="claim-review"`) {
		t.Fatalf("another reviewer's page of rita's review:\n%s", page.body)
	}
	if got := rob.post(review+"/claim", url.Values{"csrf": {rob.csrf}}); got.status != http.StatusConflict || !strings.Contains(got.body, "claimed by rita until") {
		t.Fatalf("rob claiming rita's review = %d, want 409 naming rita:\n%s", got.status, got.body)
	}
	if got := rob.post(review+"/claim?renew=1", url.Values{"csrf": {rob.csrf}}); got.status != http.StatusConflict {
		t.Fatalf("rob renewing a claim he does not hold = %d, want 409", got.status)
	}
	if q := rob.get("/ui/queue"); !strings.Contains(q.body, `<span class="tag claimed" title="claimed until`) || !strings.Contains(q.body, ">rita</span>") {
		t.Fatalf("the queue does not mark rita's claim for rob")
	}
	if q := rita.get("/ui/queue"); !strings.Contains(q.body, `<span class="tag claimed mine">yours</span>`) || !strings.Contains(q.body, `id="take-next"`) {
		t.Fatalf("the queue does not mark rita's own claim, or offers no next review")
	}
	// rob takes the next review: nothing he may take is overdue (rita
	// holds the overdue one), so the least confident: B (0.1), not C (0.9),
	// though both are due at the same time.
	got := rob.post("/ui/next", url.Values{"csrf": {rob.csrf}})
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/reviews/"+docB+"-r1" {
		t.Fatalf("next for rob = %d, Location %q; want the least confident, %s-r1", got.status, got.header.Get("Location"), docB)
	}
	if page := anna.get(review); !strings.Contains(page.body, "Release rita's claim") {
		t.Fatalf("the approver is not offered to release rita's claim:\n%s", page.body)
	}
	if got := anna.post(review+"/release", url.Values{"csrf": {anna.csrf}}); got.status != http.StatusSeeOther {
		t.Fatalf("the approver releasing = %d %s", got.status, got.body)
	}
	if page := rob.get(review); !strings.Contains(page.body, "Nobody is working on this review") {
		t.Fatalf("the released review still shows a holder")
	}
	// rita's page, still open, renews nothing: the release stands.
	if got := rita.post(review+"/claim?renew=1", url.Values{"csrf": {rita.csrf}}); got.status != http.StatusConflict || !strings.Contains(got.body, "no longer holds") {
		t.Fatalf("renewing a released claim = %d %s, want 409", got.status, got.body)
	}
	// The auditor reads claims and takes none; the trail says them.
	auditor := f.as(countersign.RoleAuditor)
	if page := auditor.get(review); strings.Contains(page.body, `id="claim-review"`) {
		t.Fatalf("the auditor is offered a claim")
	}
	trail := auditor.get("/ui/documents/" + docA).body
	for _, want := range []string{"Review claimed", "rita claimed review " + docA + "-r1 until", "Claim released", "anna released rita&#39;s claim on review " + docA + "-r1."} {
		if !strings.Contains(trail, want) {
			t.Errorf("the trail lacks %q", want)
		}
	}
	if q := rob.get("/ui/queue?none=1"); !strings.Contains(q.body, "Nothing is waiting for you") {
		t.Fatalf("the queue does not say nothing was left")
	}
}

// TestBlindReviewOnThePage: on a blind review still open, the document page
// keeps rita's decision from anna, who has not decided, says one is
// hidden, and leaves its event out of the trail; rita sees her own, and the
// review page tells anna to decide on her own.
func TestBlindReviewOnThePage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id = "b11d0000000000000000000000000000"
	doc := &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: f.version, Content: "text", ContentSHA256: id,
		Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: f.now}
	if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := f.store.OpenReview(ctx, &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "contract-review", Status: countersign.ReviewPending,
		CreatedAt: f.now, DueAt: f.now.Add(time.Hour), Reasons: []string{"hitl"}, Blind: true}); err != nil {
		t.Fatal(err)
	}
	d := &countersign.Decision{ID: id + "-r1/1", ReviewID: id + "-r1", DocumentID: id, Action: countersign.ActionReject, Reason: "a secret reason",
		Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelWeb, At: f.now}
	if err := f.store.RecordDecision(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"review_id": d.ReviewID, "decision_id": d.ID, "action": d.Action, "reason": d.Reason})
	if _, err := f.store.AppendAudit(ctx, countersign.AuditEvent{ID: id + "/1", DocumentID: id, Type: countersign.EventDecisionRecorded, Actor: "rita", At: f.now, Data: data}); err != nil {
		t.Fatal(err)
	}
	anna := f.as(countersign.RoleApprover).get("/ui/documents/" + id)
	if anna.status != http.StatusOK || strings.Contains(anna.body, "a secret reason") || !strings.Contains(anna.body, "Blind review: 1 other decision on the open review is hidden") {
		t.Fatalf("anna's document page of an open blind review = %d:\n%s", anna.status, anna.body)
	}
	rita := f.as(countersign.RoleReviewer).get("/ui/documents/" + id)
	if !strings.Contains(rita.body, "a secret reason") || strings.Contains(rita.body, `id="hidden-decisions"`) {
		t.Fatalf("rita's document page does not show her own decision:\n%s", rita.body)
	}
	if page := f.as(countersign.RoleApprover).get("/ui/reviews/" + id + "-r1"); !strings.Contains(page.body, `id="blind-review"`) {
		t.Fatalf("the review page does not say it is blind:\n%s", page.body)
	}
}

// TestAssignmentOnThePage: the queue marks a review assigned to its
// viewer and names the assignee to others; the trail says who assigned
// it to whom, and whose it was.
func TestAssignmentOnThePage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _, err := auth.Issue(ctx, f.store, "test", countersign.ChannelCLI, "rob", countersign.RoleReviewer, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rita, rob, anna := f.as(countersign.RoleReviewer), f.withToken(secret), f.as(countersign.RoleApprover)
	id := docB + "-r1"
	if _, err := f.store.AssignReview(ctx, countersign.Assign{ReviewID: id, To: "rita"}); err != nil {
		t.Fatal(err)
	}
	d := &dispatch.Dispatcher{Store: f.store}
	if _, err := d.Assign(ctx, id, "rob", countersign.Principal{User: "anna", Role: countersign.RoleApprover}, countersign.ChannelWeb); err != nil {
		t.Fatal(err)
	}
	if q := rob.get("/ui/queue"); !strings.Contains(q.body, `<span class="tag assigned" title="assigned: offered to them alone until it is due">assigned to you</span>`) {
		t.Fatalf("the queue does not mark rob's assignment for him:\n%s", q.body)
	}
	if q := rita.get("/ui/queue"); !strings.Contains(q.body, ">for rob</span>") {
		t.Fatalf("the queue does not name rob as the assignee for rita")
	}
	trail := anna.get("/ui/documents/" + docB).body
	for _, want := range []string{"Review assigned", "anna assigned review " + id + " to rob (it was rita&#39;s)."} {
		if !strings.Contains(trail, want) {
			t.Errorf("the trail lacks %q", want)
		}
	}
}

// TestRiskInTheQueueOrder: a review a risk rule sent, at confidence 0.8,
// ranks as a draft at 0.6: after B (0.1) and A (0.5), before C (0.9),
// which it would follow without the rule; its row says why.
func TestRiskInTheQueueOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const id = "7150000000000000000000000000000a"
	doc := &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: f.version, Content: "text", ContentSHA256: id,
		Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: f.now}
	if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := f.store.OpenReview(ctx, &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "contract-review", Status: countersign.ReviewPending,
		CreatedAt: f.now, DueAt: f.now.Add(5 * time.Hour), Confidence: 0.8, Reasons: []string{"risk rule"}, Risk: true}); err != nil {
		t.Fatal(err)
	}
	page := f.as(countersign.RoleReviewer).get("/ui/queue")
	var got []string
	for _, m := range regexp.MustCompile(`href="/ui/reviews/([0-9a-z])[0-9a-z]*-r1"`).FindAllStringSubmatch(page.body, -1) {
		got = append(got, m[1])
	}
	// B 0.1, A 0.5, the risk review ranked 0.6, C 0.9.
	if strings.Join(got, "") != "ba7c" {
		t.Fatalf("queue order = %v, want b, a, the risk review, c", got)
	}
	if !strings.Contains(page.body, "confidence 0.80, sent by a risk rule, so ranked as 0.60") {
		t.Fatalf("the risk review's row does not say why it stands there")
	}
}

// TestDocumentPageDisposition: the document page tells an automatic
// closure, audited and confirmed or not, from an analyst's verdict.
func TestDocumentPageDisposition(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const auto = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	doc := &countersign.Document{ID: auto, TaskType: "contract-review", TaskTypeVersion: f.version, Content: contract, ContentSHA256: auto,
		Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: f.now.Add(-time.Hour)}
	if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	status := countersign.StatusAccepted
	final := &countersign.Final{Fields: countersign.Fields{"party_a": "Northwind"}, Outcome: countersign.OutcomeAutoAcceptWithAudit,
		DecidedBy: countersign.SystemActor, DecidedAt: f.now, AuditedBy: "otto"}
	if err := f.store.UpdateDocument(ctx, auto, countersign.DocumentUpdate{Status: &status, Final: final,
		Route: &countersign.Route{Outcome: countersign.OutcomeAutoAcceptWithAudit, Mode: countersign.ModeHOTL, Threshold: 0.9}}); err != nil {
		t.Fatal(err)
	}
	page := f.as(countersign.RoleAuditor).get("/ui/documents/" + auto)
	want := `<dt>Disposition</dt><dd><strong class="disposition-automatic">automatic</strong>: no analyst decided it; audited and confirmed by otto</dd>`
	if page.status != http.StatusOK || !strings.Contains(page.body, want) || strings.Contains(page.body, "analyst-validated") {
		t.Fatalf("document page = %d, want %q:\n%s", page.status, want, page.body)
	}
}
