package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

// TestSimulateThresholds: GET /v1/policy/simulate refuses, with 422 naming
// the value, a threshold that is not a number from 0 to 1, NaN and the
// infinities included, and simulates a good one.
func TestSimulateThresholds(t *testing.T) {
	s := newServer(t, 0)
	auditor := s.tokens[countersign.RoleAuditor]
	simulate := func(threshold string) answer {
		t.Helper()
		return s.do("GET", "/v1/policy/simulate?task_type=contract-review&threshold="+url.QueryEscape(threshold), auditor, "")
	}
	for _, bad := range []string{"NaN", "nan", "-NaN", "Inf", "+Inf", "-Inf", "infinity", "1.5", "-0.1", "0.9,NaN", "abc"} {
		want := bad
		if i := strings.LastIndex(bad, ","); i >= 0 {
			want = bad[i+1:]
		}
		got := simulate(bad)
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.message(), `not "`+want+`"`) {
			t.Errorf("threshold %s: %d %q; want 422 naming %q", bad, got.status, got.message(), want)
		}
	}
	got := simulate("0.93")
	rows, _ := got.body["rows"].([]any)
	if got.status != http.StatusOK || len(rows) == 0 {
		t.Fatalf("threshold 0.93: %d %v", got.status, got.body)
	}
}
