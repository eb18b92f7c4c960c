package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/oidc"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// fakeOIDC stands for internal/oidc's Authenticator (tested against a real
// issuer there): one known JWT, everything else refused.
type fakeOIDC struct{ seen []string }

const goodJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyaXRhIn0.c2ln"

func (f *fakeOIDC) Authenticate(_ context.Context, raw string) (oidc.Identity, error) {
	f.seen = append(f.seen, raw)
	if raw != goodJWT {
		return oidc.Identity{}, countersign.Errorf(countersign.CodeUnauthorized, "OIDC token: bad signature")
	}
	return oidc.Identity{
		Principal: countersign.Principal{User: "rita@example.org", Role: countersign.RoleReviewer},
		Groups:    []string{"claims"},
		Subject:   "https://idp.example.org#rita",
		Expiry:    time.Now().Add(time.Hour),
	}, nil
}

// TestOIDCBearer: with an issuer configured, a JWT is checked by it and its
// groups apply; API tokens still work and never reach the issuer.
func TestOIDCBearer(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	contracts, _ := types.Get("contract-review")
	contracts.ReviewGroups = []string{"contracts"}
	idp := &fakeOIDC{}
	ts := httptest.NewServer(api.Router(api.Services{
		Store:    store,
		Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)},
		Ready:    func(context.Context) error { return nil },
		OIDC:     idp,
	}))
	t.Cleanup(ts.Close)
	s := &server{t: t, url: ts.URL, store: store, types: types}
	doc := &countersign.Document{ID: "c1", TaskType: "contract-review", TaskTypeVersion: "v", Content: "x", ContentSHA256: "c1", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: time.Now()}
	if _, _, err := store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}

	if a := s.do(http.MethodGet, "/v1/reviews", goodJWT, ""); a.status != http.StatusOK {
		t.Fatalf("GET /v1/reviews with a good OIDC token = %d %v", a.status, a.body)
	}
	// The token's groups (claims) do not include contract-review's.
	if a := s.do(http.MethodGet, "/v1/documents/c1", goodJWT, ""); a.status != http.StatusForbidden {
		t.Fatalf("OIDC reviewer outside the review groups GET a contract = %d %v, want 403", a.status, a.body)
	}
	// A reviewer may not submit: the role from the token counts.
	if a := s.do(http.MethodPost, "/v1/documents", goodJWT, `{}`); a.status != http.StatusForbidden {
		t.Fatalf("OIDC reviewer submitting = %d %v, want 403", a.status, a.body)
	}
	if a := s.do(http.MethodGet, "/v1/reviews", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJldmUifQ.Zm9yZ2Vk", ""); a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("GET /v1/reviews with a forged OIDC token = %d %v, want 401", a.status, a.body)
	}
	secret, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "anna", countersign.RoleApprover, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before := len(idp.seen)
	if a := s.do(http.MethodGet, "/v1/documents/c1", secret, ""); a.status != http.StatusOK {
		t.Fatalf("API token with an issuer configured = %d %v", a.status, a.body)
	}
	if len(idp.seen) != before {
		t.Fatal("an API token was sent to the OIDC issuer")
	}
}
