package assign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/assign"
)

type tokens []countersign.Token

func (ts tokens) ListTokens(context.Context) ([]countersign.Token, error) { return ts, nil }
func (tokens) AssignmentTurn(context.Context, string) (int64, error)      { return 0, nil }
func (tokens) AssignedLoad(context.Context, []string) (map[string]int, error) {
	return map[string]int{}, nil
}

// TestDirectory: the people are those with a live token, groups expand
// to their members by name, each person once; a person with two tokens
// may take a review under either.
func TestDirectory(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	ps, err := assign.Directory(context.Background(), tokens{
		{User: "zoe", Role: countersign.RoleReviewer, Groups: []string{"ap"}},
		{User: "amy", Role: countersign.RoleReviewer, Groups: []string{"ap", "ar"}, ExpiresAt: &future},
		{User: "old", Role: countersign.RoleReviewer, Groups: []string{"ap"}, ExpiresAt: &past},
		{User: "gone", Role: countersign.RoleReviewer, Groups: []string{"ap"}, RevokedAt: &past},
		{User: "olga", Role: countersign.RoleAuditor},
		{User: "olga", Role: countersign.RoleApprover},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ps.Expand([]string{"olga", "group:ap", "zoe", "group:ar"}), ","); got != "olga,amy,zoe" {
		t.Fatalf("expanded = %s, want olga,amy,zoe", got)
	}
	c := assign.Case{
		Review:   &countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "invoices"},
		Document: &countersign.Document{ID: "d1", SubmittedBy: "zoe"},
		Groups:   []string{"ar"},
	}
	for user, want := range map[string]string{
		"olga": "", // the approver token decides
		"amy":  "",
		"zoe":  "zoe may not review invoices documents",
		"old":  "old has no live API token",
	} {
		err := ps.Refusal(user, c)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("refusal of %s = %v, want %q", user, err, want)
		}
	}
}
