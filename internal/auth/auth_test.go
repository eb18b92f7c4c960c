package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
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

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret, token, err := auth.Issue(ctx, s, "admin", countersign.ChannelCLI, "rita", countersign.RoleReviewer, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Revoke(ctx, s, "admin", countersign.ChannelAPI, token.ID, "  ", now); !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("revocation without a reason: %v", err)
	}
	if _, err := auth.Revoke(ctx, s, "admin", countersign.ChannelAPI, "tok_nope", "leaked", now); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("revocation of an unknown token: %v", err)
	}
	if _, err := auth.Authenticate(ctx, s, secret, now); err != nil {
		t.Fatalf("a refused revocation revoked the token: %v", err)
	}
	at := now.Add(time.Hour)
	revoked, err := auth.Revoke(ctx, s, "admin", countersign.ChannelAPI, token.ID, " leaked in a ticket ", at)
	if err != nil || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(at) || revoked.RevokedBy != "admin" || revoked.RevokeReason != "leaked in a ticket" {
		t.Fatalf("revoke = %+v, %v", revoked, err)
	}
	_, err = auth.Authenticate(ctx, s, secret, at.Add(time.Second))
	if !errors.Is(err, countersign.ErrUnauthorized) || err.Error() != "token revoked at 2026-01-01T01:00:00Z" {
		t.Fatalf("revoked token authenticates: %v", err)
	}
	// A retry answers the same and records nothing new.
	if again, err := auth.Revoke(ctx, s, "admin", countersign.ChannelAPI, token.ID, "leaked in a ticket", at.Add(time.Minute)); err != nil || !again.RevokedAt.Equal(at) {
		t.Fatalf("retried revocation = %+v, %v", again, err)
	}
	if _, err := auth.Revoke(ctx, s, "other-admin", countersign.ChannelAPI, token.ID, "another reason", at); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("second revocation by someone else: %v", err)
	}
	events, err := s.DocumentAudit(ctx, "")
	if err != nil || len(events) != 2 {
		t.Fatalf("audit = %+v, %v, want the creation and one revocation", events, err)
	}
	e := events[1]
	if e.Type != countersign.EventTokenRevoked || e.Actor != "admin" || e.Channel != countersign.ChannelAPI || !e.At.Equal(at) ||
		!strings.Contains(string(e.Data), `"reason":"leaked in a ticket"`) || !strings.Contains(string(e.Data), token.ID) || strings.Contains(string(e.Data), secret) {
		t.Fatalf("revocation audit event = %+v (data %s)", e, e.Data)
	}
	if report, err := audit.Verify(ctx, s); err != nil || !report.OK {
		t.Fatalf("audit chain after revocation = %+v, %v", report, err)
	}
}
