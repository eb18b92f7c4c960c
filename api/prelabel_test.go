package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

// TestSubmitRefusesBadPrelabels: a pre-label that does not fit the task
// type is refused with 422 naming what is wrong, and nothing is stored.
func TestSubmitRefusesBadPrelabels(t *testing.T) {
	s := newServer(t, 0)
	const content = "Hello, I am Ann Lee, ann@example.com."
	for _, tc := range []struct {
		name     string
		prelabel any
		says     string
	}{
		{"no fields", map[string]any{"fields": map[string]any{}}, "prelabel: fields is empty"},
		{"source on two lines", map[string]any{"fields": map[string]any{"full_name": "Ann Lee"}, "source": "ner\nrisk rule matched"}, "source must be at most 256 printable characters on one line"},
		{"unknown field", map[string]any{"fields": map[string]any{"shoe_size": 9}}, `pii-extraction has no field "shoe_size" (its fields: `},
		{"bad value", map[string]any{"fields": map[string]any{"email": "not an address"}}, "prelabel: email: "},
		{"evidence elsewhere", map[string]any{"fields": map[string]any{"full_name": "Ann Lee"},
			"evidence": map[string]any{"full_name": map[string]any{"quote": "Ann Lee", "start": 0, "end": 7}}}, `evidence for full_name: characters 0 to 7 of the content are not "Ann Lee"`},
		{"evidence without a value", map[string]any{"fields": map[string]any{"full_name": "Ann Lee"},
			"evidence": map[string]any{"email": map[string]any{"quote": "ann@example.com", "start": 21, "end": 36}}}, "evidence for email, which the pre-label gives no value"},
	} {
		body, _ := json.Marshal(map[string]any{"task_type": "pii-extraction", "content": content, "prelabel": tc.prelabel})
		a := s.do("POST", "/v1/documents", s.tokens[countersign.RoleSubmitter], string(body))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.message(), tc.says) {
			t.Errorf("%s: %d %q; want 422 saying %q", tc.name, a.status, a.message(), tc.says)
		}
	}
	n := 0
	if err := s.store.ScanDocuments(context.Background(), countersign.DocumentFilter{}, func(*countersign.Document) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("documents after refused submissions = %d, %v; want none", n, err)
	}
}
