package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// runStatus runs the binary's root command with args and returns its output
// and exit status (0, or the status an exitError asks for, else 1).
func runStatus(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return out.String(), 0
	}
	out.WriteString(err.Error())
	var exit exitError
	if errors.As(err, &exit) {
		return out.String(), exit.code
	}
	return out.String(), 1
}

// TestAuditCheckpoints goes through the checkpoint story with the CLI
// against the real router: make a key, sign a checkpoint, let the chain
// grow, verify; then a checkpoint from another key, a tampered checkpoint
// and a rewritten chain are each refused.
func TestAuditCheckpoints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	server := httptest.NewServer(api.Router(api.Services{Store: store, Ready: func(context.Context) error { return nil }}))
	t.Cleanup(server.Close)
	token, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "ada", countersign.RoleAuditor, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := []string{"--server", server.URL, "--token", token}
	appendEvents := func(n int) {
		for range n {
			if _, err := store.AppendAudit(ctx, countersign.AuditEvent{ID: fmt.Sprintf("ev-%d", time.Now().UnixNano()), Type: countersign.EventDecisionRecorded,
				Actor: "rita", Channel: countersign.ChannelAPI, At: time.Now(), Data: json.RawMessage(`{"action":"approve"}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendEvents(3)

	key, other := filepath.Join(dir, "audit.key"), filepath.Join(dir, "other.key")
	for _, k := range []string{key, other} {
		if out, code := runStatus(t, "audit", "keygen", "--output", k); code != 0 || !strings.Contains(out, "key ID") {
			t.Fatalf("keygen: %d %s", code, out)
		}
	}
	if info, err := os.Stat(key); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("signing key file: %v, %v; want mode 0600", info.Mode(), err)
	}
	if out, code := runStatus(t, "audit", "keygen", "--output", key); code == 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("keygen over an existing key: %d %s, want a refusal", code, out)
	}

	checkpoint := filepath.Join(dir, "checkpoint.json")
	out, code := runStatus(t, append([]string{"audit", "checkpoint", "--signing-key", key, "--output", checkpoint}, client...)...)
	if code != 0 {
		t.Fatalf("checkpoint: %d %s", code, out)
	}
	var signed audit.Checkpoint
	if raw, err := os.ReadFile(checkpoint); err != nil || json.Unmarshal(raw, &signed) != nil || signed.Seq != 4 {
		t.Fatalf("checkpoint file: %+v, %v; want event 4 (a token creation and 3 events)", signed, err)
	}

	appendEvents(2)
	verify := func(args ...string) (string, int) {
		return runStatus(t, append(append([]string{"audit", "verify"}, args...), client...)...)
	}
	if out, code := verify("--checkpoint", checkpoint, "--public-key", key+".pub"); code != 0 ||
		!strings.Contains(out, "audit chain OK: 6 events") || !strings.Contains(out, "holds checkpoint "+checkpoint+": event 4") {
		t.Fatalf("verify after 2 more events: %d %s", code, out)
	}
	if out, code := verify("--checkpoint", checkpoint); code != 0 || !strings.Contains(out, "not checked against a trusted one") {
		t.Fatalf("verify with no key pinned: %d %s", code, out)
	}
	if out, code := verify("--checkpoint", checkpoint, "--public-key", other+".pub"); code != 1 || !strings.Contains(out, "untrusted key") {
		t.Fatalf("verify against another key: %d %s, want exit 1, untrusted key", code, out)
	}
	if out, code := verify("--public-key", key+".pub"); code != 2 {
		t.Fatalf("--public-key without a checkpoint: %d %s, want a usage error", code, out)
	}

	events := scan(t, store)
	moved := signed
	moved.Seq, moved.Head = 3, events[2].Hash
	tampered := filepath.Join(dir, "tampered.json")
	raw, _ := json.Marshal(moved)
	if err := os.WriteFile(tampered, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := verify("--checkpoint", tampered); code != 1 || !strings.Contains(out, "signature does not verify") {
		t.Fatalf("verify a checkpoint moved to event 3: %d %s, want exit 1, bad signature", code, out)
	}

	// An attacker with the database file rewrites event 2 and recomputes
	// every hash after it: the chain verifies, the checkpoint does not.
	for i := 1; i < len(events); i++ {
		e := events[i]
		if i == 1 {
			e.Data = json.RawMessage(`{"action":"reject"}`)
		}
		audit.Seal(&e, &events[i-1])
		events[i] = e
		if _, err := store.DB().ExecContext(ctx, `UPDATE audit_events SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?`, string(e.Data), e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if out, code := verify(); code != 0 {
		t.Fatalf("the rewritten chain alone: %d %s, want it to verify as the attacker meant", code, out)
	}
	if out, code := verify("--checkpoint", checkpoint, "--public-key", key+".pub"); code != 1 || !strings.Contains(out, "BROKEN at event 4") || !strings.Contains(out, "rewritten") {
		t.Fatalf("verify the rewritten chain against the checkpoint: %d %s, want exit 1, broken at event 4", code, out)
	}
}

func scan(t *testing.T, s countersign.AuditLog) []countersign.AuditEvent {
	t.Helper()
	var events []countersign.AuditEvent
	if err := s.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		events = append(events, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestMigrate(t *testing.T) {
	t.Setenv("COUNTERSIGN_DATABASE_URL", "")
	if out, code := runStatus(t, "migrate"); code != 2 {
		t.Fatalf("migrate without a database: %d %s, want a usage error", code, out)
	}
	url := pgtest.Database(t)
	for range 2 {
		if out, code := runStatus(t, "migrate", "--database-url", url); code != 0 || !strings.Contains(out, "database migrated") {
			t.Fatalf("migrate: %d %s", code, out)
		}
	}
	if out, code := runStatus(t, "token", "create", "--user", "admin", "--role", "admin", "--database-url", url); code != 0 {
		t.Fatalf("token create on the migrated database: %d %s", code, out)
	}
}

// TestAuditVerifyNamesATamperedRow: the CLI exits 1 and names the row, the
// column, and what the chain and the row say, when a stored decision was
// edited; it says how many rows it held to the chain when none was.
func TestAuditVerifyNamesATamperedRow(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	server := httptest.NewServer(api.Router(api.Services{Store: store, Ready: func(context.Context) error { return nil }}))
	t.Cleanup(server.Close)
	token, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "ada", countersign.RoleAuditor, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, err := store.CreateDocument(ctx, &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "x", Status: countersign.StatusProcessing, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	review := &countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "t", CreatedAt: now, DueAt: now}
	decision := &countersign.Decision{ID: "d1-r1/1", ReviewID: "d1-r1", DocumentID: "d1", Action: countersign.ActionReject, Reason: "unsigned",
		Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: now}
	if err := store.OpenReview(ctx, review); err != nil {
		t.Fatal(err)
	}
	if err := store.RecordDecision(ctx, decision, false); err != nil {
		t.Fatal(err)
	}
	data, _ := audit.Canonical(map[string]any{"review_id": review.ID, "decision_id": decision.ID, "action": decision.Action,
		"fields": nil, "reason": decision.Reason, "role": decision.Role, "at": decision.At})
	if _, err := store.AppendAudit(ctx, countersign.AuditEvent{ID: "review/d1/1", DocumentID: "d1", Type: countersign.EventDecisionRecorded,
		Actor: "rita", Channel: countersign.ChannelAPI, At: now, Data: data}); err != nil {
		t.Fatal(err)
	}
	verify := func() (string, int) { return runStatus(t, "audit", "verify", "--server", server.URL, "--token", token) }
	if out, code := verify(); code != 0 || !strings.Contains(out, "stored rows OK: 1 documents and 1 decisions") {
		t.Fatalf("verify an untouched store: %d %s", code, out)
	}
	if _, err := store.DB().ExecContext(ctx, `UPDATE decisions SET actor = 'mallory' WHERE id = 'd1-r1/1'`); err != nil {
		t.Fatal(err)
	}
	out, code := verify()
	if code != 1 || !strings.Contains(out, "audit chain holds (2 events), but a stored row does NOT match it") ||
		!strings.Contains(out, `decision d1-r1/1: actor is "mallory" in the row, but event 2 (decision.recorded) recorded "rita"`) {
		t.Fatalf("verify after editing the decision's actor: %d %s", code, out)
	}
}
