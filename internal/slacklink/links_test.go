package slacklink_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/slacklink"
	"github.com/countersign/countersign/internal/store/sqlite"
)

func TestParseLinks(t *testing.T) {
	links, err := slacklink.ParseLinks(`
# reviewers of contracts
U024BE7LH  rita  reviewer  contracts,legal
W01ABCDEF  anna  approver
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0].User != "rita" || links[0].Role != countersign.RoleReviewer || strings.Join(links[0].Groups, ",") != "contracts,legal" ||
		links[1].SlackUserID != "W01ABCDEF" || links[1].Role != countersign.RoleApprover || links[1].Groups != nil {
		t.Fatalf("links = %+v", links)
	}
	for text, want := range map[string]string{
		"U024BE7LH rita":                               "line 1: want SLACK_MEMBER_ID USER ROLE",
		"rita U024BE7LH reviewer":                      `line 1: "rita" is not a Slack member ID`,
		"\nU024BE7LH rita boss":                        `line 2: unknown role "boss"`,
		"U024BE7LH rita reviewer a,,b":                 `line 1: group name ""`,
		"U024BE7LH rita reviewer\nU024BE7LH x auditor": "line 2: U024BE7LH is linked on line 1 already",
		"U024BE7LH countersign admin":                  `line 1: user name "countersign" is reserved`,
	} {
		if _, err := slacklink.ParseLinks(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLinks(%q) = %v, want %q", text, err, want)
		}
	}
}

// TestLinkAll: links from the file are made and recorded once; starting
// again with the same file changes and records nothing; a changed line
// changes the link and is recorded.
func TestLinkAll(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	links, _ := slacklink.ParseLinks("U024BE7LH rita reviewer contracts\nW01ABCDEF anna approver")
	for i, want := range []int{2, 0} {
		changed, err := slacklink.LinkAll(ctx, s, links, "config:slack-users", now.Add(time.Duration(i)*time.Minute))
		if err != nil || changed != want {
			t.Fatalf("start %d: changed %d, %v; want %d", i+1, changed, err, want)
		}
	}
	links[0].Role = countersign.RoleApprover
	if changed, err := slacklink.LinkAll(ctx, s, links, "config:slack-users", now.Add(time.Hour)); err != nil || changed != 1 {
		t.Fatalf("changed line: changed %d, %v; want 1", changed, err)
	}
	rita, err := s.SlackUser(ctx, "U024BE7LH")
	if err != nil || rita.Role != countersign.RoleApprover || rita.LinkedBy != "config:slack-users" {
		t.Fatalf("rita's link = %+v, %v", rita, err)
	}
	var recorded []string
	if err := s.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		recorded = append(recorded, e.Type+" "+string(e.Channel)+" "+e.Actor)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 3 || recorded[0] != "slack_user.linked config config:slack-users" {
		t.Fatalf("audit events = %q, want three links recorded from the configuration", recorded)
	}
}

// TestLinkAllRefusesLookAlikeUsers: a link from the file to a name that
// differs only in case or spaces from a user with a token, or from another
// line's, stops the start, naming both.
func TestLinkAllRefusesLookAlikeUsers(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	if err := s.CreateToken(ctx, &countersign.Token{ID: "t1", Hash: "h1", User: "rita", Role: countersign.RoleReviewer, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"U024BE7LH Rita reviewer":                        `link Slack account U024BE7LH: user name "Rita" is too like "rita", a user with an API token`,
		"W01ABCDEF anna approver\nU01ANNA Anna approver": `link Slack account U01ANNA: user name "Anna" is too like "anna", a user with a Slack link`,
	} {
		links, err := slacklink.ParseLinks(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := slacklink.LinkAll(ctx, s, links, "config:slack-users", now); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LinkAll(%q) = %v, want %q", text, err, want)
		}
	}
}
