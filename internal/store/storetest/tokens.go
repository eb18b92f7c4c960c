package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

func testTokens(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	expires := t0.Add(30 * 24 * time.Hour)
	tok := &countersign.Token{ID: "t1", Hash: "h1", User: "alice", Role: countersign.RoleReviewer, Groups: []string{"contracts", "claims-eu"}, CreatedAt: t0, ExpiresAt: &expires}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, &countersign.Token{ID: "t2", Hash: "h1", User: "eve", Role: countersign.RoleAdmin, CreatedAt: t0}); err == nil {
		t.Fatal("a second token with the same hash was stored")
	}
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.User != "alice" || got.Role != countersign.RoleReviewer || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) ||
		strings.Join(got.Groups, ",") != "contracts,claims-eu" {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(ctx, "h2"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("TokenByHash(unknown) = %v, want not found", err)
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 1 {
		t.Fatalf("CountTokens = %d, %v", n, err)
	}
	testTokenRevocation(t, s)
}

// testTokenRevocation continues testTokens: listing tokens without their
// hashes, and revoking one, once.
func testTokenRevocation(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if got, err := s.TokenByHash(ctx, "h1"); err != nil || got.RevokedAt != nil || got.RevokedBy != "" || got.RevokeReason != "" {
		t.Fatalf("a new token is revoked: %+v, %v", got, err)
	}
	if err := s.CreateToken(ctx, &countersign.Token{ID: "t0", Hash: "h0", User: "bob", Role: countersign.RoleAdmin, CreatedAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "t0" || list[1].ID != "t1" {
		t.Fatalf("ListTokens = %+v, %v, want t0 then t1", list, err)
	}
	if list[0].Hash != "" || list[1].Hash != "" {
		t.Fatalf("ListTokens shows hashes: %+v", list)
	}
	if list[1].User != "alice" || list[1].Role != countersign.RoleReviewer || !list[1].CreatedAt.Equal(store.Time(t0)) ||
		list[1].ExpiresAt == nil || !list[1].ExpiresAt.Equal(store.Time(t0.Add(30*24*time.Hour))) || list[0].ExpiresAt != nil {
		t.Fatalf("ListTokens = %+v", list)
	}

	at := t0.Add(time.Hour)
	revoked, err := s.RevokeToken(ctx, "t1", "root", "left the team", at)
	if err != nil || revoked.ID != "t1" || revoked.User != "alice" || revoked.Hash != "" ||
		revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(store.Time(at)) || revoked.RevokedBy != "root" || revoked.RevokeReason != "left the team" {
		t.Fatalf("RevokeToken = %+v, %v", revoked, err)
	}
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(store.Time(at)) || got.RevokedBy != "root" || got.RevokeReason != "left the team" {
		t.Fatalf("TokenByHash after revocation = %+v, %v", got, err)
	}
	// A retry changes nothing: the first revocation's time stays.
	again, err := s.RevokeToken(ctx, "t1", "root", "left the team", at.Add(time.Minute))
	if err != nil || !again.RevokedAt.Equal(store.Time(at)) {
		t.Fatalf("RevokeToken retried = %+v, %v", again, err)
	}
	if _, err := s.RevokeToken(ctx, "t1", "other", "leaked", at); !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "already revoked by root") {
		t.Fatalf("RevokeToken of a revoked token by someone else = %v, want a conflict", err)
	}
	if _, err := s.RevokeToken(ctx, "nope", "root", "x", at); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("RevokeToken(unknown) = %v, want not found", err)
	}
	list, err = s.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].RevokedAt != nil || list[1].RevokedAt == nil || list[1].RevokedBy != "root" {
		t.Fatalf("ListTokens after revocation = %+v, %v", list, err)
	}
}
