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

func TestIssueAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret, token, err := auth.Issue(ctx, s, "admin", countersign.ChannelCLI, "rita", countersign.RoleReviewer, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.Prefix) || len(secret) < 40 || strings.Contains(token.Hash, secret) || token.Hash != auth.Hash(secret) {
		t.Fatalf("secret %q, token %+v", secret, token)
	}
	p, err := auth.Authenticate(ctx, s, secret, now.Add(59*time.Minute))
	if err != nil || p.User != "rita" || p.Role != countersign.RoleReviewer {
		t.Fatalf("authenticate = %+v, %v", p, err)
	}
	if _, err := auth.Authenticate(ctx, s, secret, now.Add(time.Hour)); !errors.Is(err, countersign.ErrUnauthorized) {
		t.Fatalf("expired token: %v", err)
	}
	if _, err := auth.Authenticate(ctx, s, secret+"x", now); !errors.Is(err, countersign.ErrUnauthorized) {
		t.Fatalf("altered token: %v", err)
	}
	events, err := s.DocumentAudit(ctx, "")
	if err != nil || len(events) != 1 || events[0].Type != countersign.EventTokenCreated || events[0].Actor != "admin" || strings.Contains(string(events[0].Data), secret) {
		t.Fatalf("token creation audit = %+v, %v", events, err)
	}
	if _, _, err := auth.Issue(ctx, s, "admin", countersign.ChannelCLI, "x", "root", 0, now); !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
}
