package main

import (
	"context"
	"encoding/json"
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

func TestUserCommandsLinkSlackAccounts(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := httptest.NewServer(api.Router(api.Services{Store: store}))
	defer ts.Close()
	admin, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "root", countersign.RoleAdmin, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := []string{"--server", ts.URL, "--token", admin}

	if out, err := run(t, append([]string{"user", "link", "--user", "rita", "--role", "reviewer"}, client...)...); !isExit(err, 2) {
		t.Fatalf("user link without --slack: %v\n%s", err, out)
	}
	out, err := run(t, append([]string{"user", "link", "--user", "rita", "--slack", "U024BE7LH", "--role", "reviewer", "--groups", "contracts,legal"}, client...)...)
	if err != nil || out != "Slack user U024BE7LH acts as rita (role reviewer, groups contracts,legal)\n" {
		t.Fatalf("user link: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"user", "link", "--user", "rita", "--slack", "rita", "--role", "reviewer"}, client...)...); err == nil || !strings.Contains(err.Error(), "not a Slack member ID") {
		t.Fatalf("user link with a name for an ID: %v\n%s", err, out)
	}
	link, err := store.SlackUser(context.Background(), "U024BE7LH")
	if err != nil || link.User != "rita" || link.LinkedBy != "root" {
		t.Fatalf("stored link %+v, %v", link, err)
	}
	out, err = run(t, append([]string{"user", "list", "--json"}, client...)...)
	var users []countersign.SlackUser
	if err != nil || json.Unmarshal([]byte(out), &users) != nil || len(users) != 1 || users[0].Role != countersign.RoleReviewer {
		t.Fatalf("user list --json: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"user", "unlink", "U024BE7LH"}, client...)...)
	if err != nil || out != "Slack user U024BE7LH no longer acts as rita\n" {
		t.Fatalf("user unlink: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"user", "list"}, client...)...); err != nil || strings.Contains(out, "U024BE7LH") {
		t.Fatalf("user list after unlinking: %v\n%s", err, out)
	}
}
