package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/slackapp"
)

// Roles, short, for the access table.
const (
	submitter = countersign.RoleSubmitter
	reviewer  = countersign.RoleReviewer
	approver  = countersign.RoleApprover
	auditor   = countersign.RoleAuditor
	admin     = countersign.RoleAdmin
)

// public marks a route that needs no token.
var public = []countersign.Role(nil)

// access is who may call each route, written out by hand from the access
// policy the README documents (admin may call everything). It is not derived
// from router.go's role lists on purpose: a change to who may call what
// must change this table too. pattern is the route as router.go registers
// it; path and body make a request to it that settles before needing
// Temporal.
var access = []struct {
	pattern    string
	path, body string
	roles      []countersign.Role
}{
	{"GET /healthz", "/healthz", "", public},
	{"GET /readyz", "/readyz", "", public},
	{"GET /metrics", "/metrics", "", public},
	{"GET /v1/openapi.json", "/v1/openapi.json", "", public},
	{"/", "/v2/nothing", "", public},
	{"/ui/", "/ui/", "", public}, // the web page signs people in itself
	{"GET /{$}", "/", "", public},
	{"POST /v1/documents", "/v1/documents", `{}`, []countersign.Role{submitter, admin}},
	{"GET /v1/documents/{id}", "/v1/documents/nope", "", []countersign.Role{submitter, reviewer, approver, auditor, admin}},
	{"GET /v1/batches", "/v1/batches", "", []countersign.Role{submitter, reviewer, approver, auditor, admin}},
	{"GET /v1/batches/{name}", "/v1/batches/nope", "", []countersign.Role{submitter, reviewer, approver, auditor, admin}},
	{"GET /v1/documents/{id}/audit", "/v1/documents/nope/audit", "", []countersign.Role{reviewer, approver, auditor, admin}},
	{"GET /v1/documents/{id}/original", "/v1/documents/nope/original", "", []countersign.Role{reviewer, approver, auditor, admin}},
	{"GET /v1/documents/{id}/pages/{page}", "/v1/documents/nope/pages/1", "", []countersign.Role{reviewer, approver, auditor, admin}},
	{"GET /v1/reviews", "/v1/reviews", "", []countersign.Role{reviewer, approver, auditor, admin}},
	{"GET /v1/reviews/{id}", "/v1/reviews/nope", "", []countersign.Role{reviewer, approver, auditor, admin}},
	{"POST /v1/reviews/{id}/decision", "/v1/reviews/nope/decision", `{"action":"approve"}`, []countersign.Role{reviewer, approver, admin}},
	{"POST /v1/documents/{id}/escalate", "/v1/documents/nope/escalate", `{"reason":"phishing campaign"}`, []countersign.Role{reviewer, approver, admin}},
	{"POST /v1/reviews/{id}/claim", "/v1/reviews/nope/claim", "", []countersign.Role{reviewer, approver, admin}},
	{"DELETE /v1/reviews/{id}/claim", "/v1/reviews/nope/claim", "", []countersign.Role{reviewer, approver, admin}},
	{"POST /v1/reviews/{id}/assign", "/v1/reviews/nope/assign", `{"to":"sam"}`, []countersign.Role{approver, admin}},
	{"POST /v1/reviews/next", "/v1/reviews/next?task_type=nope", "", []countersign.Role{reviewer, approver, admin}},
	{"GET /v1/audit/verify", "/v1/audit/verify", "", []countersign.Role{approver, auditor, admin}},
	{"POST /v1/tokens", "/v1/tokens", `{"user":"x","role":"nope"}`, []countersign.Role{admin}},
	{"GET /v1/tokens", "/v1/tokens", "", []countersign.Role{admin}},
	{"POST /v1/tokens/{id}/revoke", "/v1/tokens/nope/revoke", `{"reason":"x"}`, []countersign.Role{admin}},
	{"POST /v1/calibrations", "/v1/calibrations", `{"task_type":"nope"}`, []countersign.Role{approver, admin}},
	{"GET /v1/calibrations/{task_type}", "/v1/calibrations/nope", "", []countersign.Role{approver, auditor, admin}},
	{"GET /v1/policy/simulate", "/v1/policy/simulate?task_type=nope", "", []countersign.Role{approver, auditor, admin}},
	{"POST /v1/policy/reset", "/v1/policy/reset", `{"task_type":"nope","reason":"x"}`, []countersign.Role{approver, admin}},
	{"POST /v1/policy/certify", "/v1/policy/certify", `{"task_type":"nope","error_budget":0.01}`, []countersign.Role{approver, admin}},
	{"GET /v1/policy/certificates", "/v1/policy/certificates?task_type=nope", "", []countersign.Role{approver, auditor, admin}},
	{"POST /v1/policy/apply", "/v1/policy/apply", `{"task_type":"nope","certificate":"nope/c1"}`, []countersign.Role{approver, admin}},
	{"POST /v1/policy/set", "/v1/policy/set", `{"task_type":"nope","mode":"hitl","reason":"x"}`, []countersign.Role{approver, admin}},
	{"GET /v1/policy/versions", "/v1/policy/versions?task_type=nope", "", []countersign.Role{approver, auditor, admin}},
	{"POST /v1/documents/{id}/veto", "/v1/documents/nope/veto", `{"action":"reject","reason":"x"}`, []countersign.Role{approver, admin}},
	{"GET /v1/stats", "/v1/stats?task_type=nope", "", []countersign.Role{approver, auditor, admin}},
	{"GET /v1/reviewers", "/v1/reviewers?task_type=nope", "", []countersign.Role{approver, auditor, admin}},
	{"GET /v1/export", "/v1/export?format=nope", "", []countersign.Role{approver, auditor, admin}},
	{"POST /v1/slack/users", "/v1/slack/users", `{"slack_user_id":"nope"}`, []countersign.Role{admin}},
	{"GET /v1/slack/users", "/v1/slack/users", "", []countersign.Role{admin}},
	{"DELETE /v1/slack/users/{slack_user_id}", "/v1/slack/users/UNOPE", "", []countersign.Role{admin}},
	{"POST /slack/interactions", "/slack/interactions", "", public}, // verified by Slack's signature (internal/slackapp)
	{"POST /slack/commands", "/slack/commands", "", public},
}

// TestRouteRoleMatrix calls every route as every role and with no token:
// the roles the table allows get past authorization (whatever the handler
// answers next), the others get 403, and no token gets 401, except on
// public routes.
func TestRouteRoleMatrix(t *testing.T) {
	s := newServer(t, 0)
	for _, route := range access {
		method, _, ok := strings.Cut(route.pattern, " ")
		if !ok {
			method = http.MethodGet
		}
		callers := append([]countersign.Role{""}, countersign.Roles...)
		for _, role := range callers {
			got := s.do(method, route.path, s.tokens[role], route.body)
			denied := got.status == http.StatusUnauthorized || got.status == http.StatusForbidden
			who := "no token"
			if role != "" {
				who = string(role)
			}
			switch {
			case route.roles == nil || slices.Contains(route.roles, role):
				if denied {
					t.Errorf("%s as %s: %d %s, want allowed", route.pattern, who, got.status, got.message())
				}
			case role == "":
				if got.status != http.StatusUnauthorized || got.code() != "unauthorized" {
					t.Errorf("%s with no token: %d %s, want 401", route.pattern, got.status, got.code())
				}
			case got.status != http.StatusForbidden || got.code() != "forbidden" || !strings.Contains(got.message(), "user-"+string(role)) ||
				!strings.Contains(got.message(), "needs the "+countersign.RoleList(route.roles)+" role"):
				t.Errorf("%s as %s: %d %s %q, want 403 naming the user and the roles that may (%s)", route.pattern, who, got.status, got.code(), got.message(), countersign.RoleList(route.roles))
			}
		}
	}
}

// TestAccessTableCoversRouter fails when a route is registered in the
// package's source without a row in the access table, or a row names a
// route no longer registered. It reads the source rather than the router,
// so it needs nothing exported for tests.
func TestAccessTableCoversRouter(t *testing.T) {
	registered := registeredRoutes(t)
	if len(registered) == 0 {
		t.Fatal("found no mux.Handle or mux.HandleFunc call in the api package")
	}
	var inTable []string
	for _, route := range access {
		inTable = append(inTable, route.pattern)
	}
	for _, pattern := range registered {
		if !slices.Contains(inTable, pattern) {
			t.Errorf("route %q is registered but not in the access table of roles_test.go: add who may call it", pattern)
		}
	}
	for _, pattern := range inTable {
		if !slices.Contains(registered, pattern) {
			t.Errorf("the access table has %q, which no longer is registered", pattern)
		}
	}
}

// registeredRoutes returns the pattern of every Handle or HandleFunc call
// with a literal pattern in the package's non-test source.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route registered with a pattern that is not a literal; the access test cannot check it", fset.Position(call.Pos()))
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			patterns = append(patterns, pattern)
			return true
		})
	}
	return patterns
}

// TestSlackPathsMatchTheManifest: the paths the Slack app manifest sends
// Slack to (countersign slack manifest) are the ones the router serves.
func TestSlackPathsMatchTheManifest(t *testing.T) {
	registered := registeredRoutes(t)
	for _, path := range []string{slackapp.InteractionsPath, slackapp.CommandsPath} {
		if !slices.Contains(registered, "POST "+path) {
			t.Errorf("the manifest sends Slack to %s, which the router does not serve (it serves %v)", path, registered)
		}
	}
}
