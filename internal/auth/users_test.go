package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestUserNames: every token is issued to a name that is printable, of a
// bounded length, not one countersign acts as itself, and not a case or
// space variant of a user who has a token or a Slack link already; the
// same name again is the same user, and fine.
func TestUserNames(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	issue := func(user string) error {
		_, _, err := auth.Issue(ctx, s, "admin", countersign.ChannelAPI, user, countersign.RoleReviewer, 0, now)
		return err
	}
	if err := issue("rita"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkSlackUser(ctx, &countersign.SlackUser{SlackUserID: "U01SAM", User: "Sam Lee", Role: countersign.RoleApprover, LinkedBy: "admin", LinkedAt: now}); err != nil {
		t.Fatal(err)
	}
	refused := []struct{ user, text string }{
		{"", "a user name is needed"},
		{"ri\x00ta", `"ri\x00ta" has a character that cannot be printed (U+0000)`},
		{"rita\u200b", "cannot be printed (U+200B)"},
		{"ri\tta", "cannot be printed (U+0009)"},
		{"\xff", "is not UTF-8"},
		{strings.Repeat("r", 100000), "user name is 100000 characters; the limit is 128"},
		{"countersign", `"countersign" is reserved`},
		{"CounterSign", `"CounterSign" is reserved`},
		{"cli", `"cli" is reserved`},
		{"config:slack-users", `"config:slack-users" is reserved`},
		{"Rita", `"Rita" is too like "rita", a user with an API token`},
		{"ri ta", `"ri ta" is too like "rita"`},
		{" rita", `" rita" starts or ends with a space`},
		{"rita ", "starts or ends with a space"},
		{"samlee", `"samlee" is too like "Sam Lee", a user with a Slack link`},
	}
	for _, tc := range refused {
		err := issue(tc.user)
		if !errors.Is(err, countersign.ErrInvalid) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("token for %.40q: %v; want invalid, saying %q", tc.user, err, tc.text)
		}
	}
	for _, user := range []string{"rita", "Sam Lee", "anna", "Ann Lee", "ünïcödé", strings.Repeat("r", 128)} {
		if err := issue(user); err != nil {
			t.Errorf("token for %.40q: %v", user, err)
		}
	}
	tokens, err := s.ListTokens(ctx)
	if err != nil || len(tokens) != 7 {
		t.Fatalf("%d tokens, %v; want the 7 allowed", len(tokens), err)
	}
}
