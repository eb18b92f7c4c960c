package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/openapicheck"
)

// TestOpenAPI: the description served at /v1/openapi.json is OpenAPI 3.1,
// documents every route the router registers and no other (the web page,
// GET / and the fallback 404 aside), and its checker refuses what does not
// hold: an undocumented status, a body its schema refuses. Every answer of
// the api package's tests goes through that checker (newServer).
func TestOpenAPI(t *testing.T) {
	s := newServer(t, 0)
	a := s.do(http.MethodGet, "/v1/openapi.json", "", "")
	if a.status != http.StatusOK || a.body["openapi"] != "3.1.0" {
		t.Fatalf("GET /v1/openapi.json = %d %v", a.status, a.body["openapi"])
	}
	spec, err := openapicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CompileAll(); err != nil {
		t.Fatalf("schemas of the description that do not compile:\n%v", err)
	}
	documented := spec.Operations()
	var routes []string
	for _, pattern := range registeredRoutes(t) {
		if pattern == "/" || pattern == "/ui/" || pattern == "GET /{$}" {
			continue
		}
		routes = append(routes, pattern)
	}
	slices.Sort(routes)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in api/openapi.yaml", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routes, op) {
			t.Errorf("api/openapi.yaml documents %s, which the router does not register", op)
		}
	}

	for _, bad := range []struct {
		method, path string
		status       int
		body, want   string
	}{
		{"GET", "/v1/reviews", http.StatusTeapot, `{}`, "does not list"},
		{"GET", "/v1/reviews", http.StatusOK, `{"reviews": 5, "next_cursor": ""}`, "schema refuses"},
		{"GET", "/v1/documents/d1", http.StatusOK, `{"id": "d1"}`, "schema refuses"},
		{"GET", "/v1/reviews/d1-r1", http.StatusNotFound, `{"error": {"code": "not_found"}}`, "schema refuses"},
	} {
		err := spec.Check(bad.method, bad.path, bad.status, "application/json", []byte(bad.body))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %s %d %s: %v, want an error saying %q", bad.method, bad.path, bad.status, bad.body, err, bad.want)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(must(json.Marshal(a.body)), &doc); err != nil || doc["components"] == nil {
		t.Fatalf("the description has no components: %v", err)
	}
	if spec.Checked.Load() == 0 {
		t.Fatal("no answer was held to the description")
	}
}
