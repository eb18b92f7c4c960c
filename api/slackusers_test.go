package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/countersign/countersign"
)

// TestSlackUserLinks: an admin links a Slack account (recorded in the
// audit log), linking it the same way again changes and records nothing,
// a malformed link is refused, and unlinking removes it, recorded too.
func TestSlackUserLinks(t *testing.T) {
	s := newServer(t, 0)
	admin := s.tokens[countersign.RoleAdmin]
	link := `{"slack_user_id":"U024BE7LH","user":"rita","role":"reviewer","groups":["contracts"]}`
	got := s.do("POST", "/v1/slack/users", admin, link)
	if got.status != http.StatusCreated || got.body["user"] != "rita" || got.body["linked_by"] != "user-admin" {
		t.Fatalf("link: %d %v", got.status, got.body)
	}
	if again := s.do("POST", "/v1/slack/users", admin, link); again.status != http.StatusOK || again.body["linked_at"] != got.body["linked_at"] {
		t.Fatalf("the same link again: %d %v, want 200 and the first link", again.status, again.body)
	}
	for _, bad := range []string{
		`{"slack_user_id":"rita","user":"rita","role":"reviewer"}`,
		`{"slack_user_id":"U024BE7LH","user":" ","role":"reviewer"}`,
		`{"slack_user_id":"U024BE7LH","user":"rita","role":"boss"}`,
		`{"slack_user_id":"U024BE7LH","user":"rita","role":"reviewer","groups":["a,b"]}`,
	} {
		if got := s.do("POST", "/v1/slack/users", admin, bad); got.status != http.StatusUnprocessableEntity {
			t.Errorf("link %s: %d %v, want 422", bad, got.status, got.body)
		}
	}
	list := s.do("GET", "/v1/slack/users", admin, "")
	if users, _ := list.body["slack_users"].([]any); list.status != http.StatusOK || len(users) != 1 {
		t.Fatalf("list: %d %v", list.status, list.body)
	}
	if got := s.do("DELETE", "/v1/slack/users/U024BE7LH", admin, ""); got.status != http.StatusOK || got.body["user"] != "rita" {
		t.Fatalf("unlink: %d %v", got.status, got.body)
	}
	if got := s.do("DELETE", "/v1/slack/users/U024BE7LH", admin, ""); got.status != http.StatusNotFound {
		t.Fatalf("unlink again: %d %v, want 404", got.status, got.body)
	}
	var events []string
	err := s.store.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		if e.Type == countersign.EventSlackUserLinked || e.Type == countersign.EventSlackUserUnlinked {
			events = append(events, e.Type+" by "+e.Actor)
		}
		return nil
	})
	if err != nil || len(events) != 2 || events[0] != "slack_user.linked by user-admin" || events[1] != "slack_user.unlinked by user-admin" {
		t.Fatalf("audit events %v, %v; want one link and one unlink, by the admin", events, err)
	}
}
