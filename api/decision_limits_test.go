package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestReasonAndFieldValueLimits: a decision, veto or policy reset whose
// reason or field value is over the API's limits (or whose fields and
// reason together are over countersign.MaxDecisionBytes) is refused with
// 413 naming the size and the limit, before Temporal is asked: a reason of
// a few MiB used to reach Temporal and come back a 500. At the limits the
// request goes on to the next check.
func TestReasonAndFieldValueLimits(t *testing.T) {
	s := newServer(t, 0)
	approver := s.tokens[countersign.RoleApprover]
	x := func(n int) string { return strings.Repeat("x", n) }
	fields := func(n, size int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"f%02d":"%s"`, i, x(size))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	const decision, veto, reset = "/v1/reviews/abc-r1/decision", "/v1/documents/abc/veto", "/v1/policy/reset"
	cases := []struct {
		name, path, body string
		status           int
		text             string
	}{
		{"decision reason", decision, `{"action":"reject","reason":"` + x(3<<20) + `"}`, 413,
			fmt.Sprintf("reason is %d bytes; the limit is %d", 3<<20, api.DefaultMaxReasonBytes)},
		{"decision field value", decision, `{"action":"correct","fields":{"party_a":"` + x(api.DefaultMaxFieldValueBytes) + `"}}`, 413,
			fmt.Sprintf(`field "party_a" is %d bytes as JSON; the limit is %d`, api.DefaultMaxFieldValueBytes+2, api.DefaultMaxFieldValueBytes)},
		{"decision fields together", decision, `{"action":"correct","fields":` + fields(40, 15000) + `}`, 413,
			fmt.Sprintf("the fields and reason together are %d bytes; the limit is %d", 40*(3+15002), countersign.MaxDecisionBytes)},
		{"veto reason", veto, `{"action":"reject","reason":"` + x(8<<20-100) + `"}`, 413,
			fmt.Sprintf("reason is %d bytes; the limit is %d", 8<<20-100, api.DefaultMaxReasonBytes)},
		{"veto field value", veto, `{"action":"correct","fields":{"full_name":"` + x(1<<20) + `"}}`, 413, `field "full_name" is`},
		{"reset reason", reset, `{"task_type":"nope","reason":"` + x(api.DefaultMaxReasonBytes+1) + `"}`, 413,
			fmt.Sprintf("reason is %d bytes; the limit is %d", api.DefaultMaxReasonBytes+1, api.DefaultMaxReasonBytes)},
		{"decision at the limits", decision, `{"action":"correct","reason":"` + x(api.DefaultMaxReasonBytes) + `","fields":{"party_a":"` + x(api.DefaultMaxFieldValueBytes-2) + `"}}`, 404, "review abc-r1 not found"},
		{"veto at the limits", veto, `{"action":"reject","reason":"` + x(api.DefaultMaxReasonBytes) + `"}`, 404, "abc"},
		{"reset at the limit", reset, `{"task_type":"nope","reason":"` + x(api.DefaultMaxReasonBytes) + `"}`, 404, "nope"},
	}
	for _, tc := range cases {
		got := s.do("POST", tc.path, approver, tc.body)
		if got.status != tc.status || !strings.Contains(got.message(), tc.text) {
			t.Errorf("%s: %d %s %.200q, want %d containing %q", tc.name, got.status, got.code(), got.message(), tc.status, tc.text)
		}
	}
}

// TestConfiguredReasonAndFieldValueLimits: the limits are the API's
// configuration, up to the ceilings every workflow holds to.
func TestConfiguredReasonAndFieldValueLimits(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	secret, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "sue", countersign.RoleApprover, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason, value int
		body, text    string
	}{
		{10, 20, `{"action":"reject","reason":"eleven byte"}`, "reason is 11 bytes; the limit is 10"},
		{10, 20, `{"action":"correct","fields":{"party_a":"nineteen characters"}}`, `field "party_a" is 21 bytes as JSON; the limit is 20`},
		// Above the ceilings, the ceilings hold.
		{1 << 30, 1 << 30, `{"action":"reject","reason":"` + strings.Repeat("x", countersign.MaxReasonBytes+1) + `"}`,
			fmt.Sprintf("the limit is %d", countersign.MaxReasonBytes)},
	} {
		ts := httptest.NewServer(api.Router(api.Services{Store: store, MaxReasonBytes: tc.reason, MaxFieldValueBytes: tc.value}))
		s := &server{t: t, url: ts.URL, store: store}
		got := s.do("POST", "/v1/reviews/abc-r1/decision", secret, tc.body)
		if got.status != http.StatusRequestEntityTooLarge || !strings.Contains(got.message(), tc.text) {
			t.Errorf("limits %d, %d: %d %.200q, want 413 containing %q", tc.reason, tc.value, got.status, got.message(), tc.text)
		}
		ts.Close()
	}
}
