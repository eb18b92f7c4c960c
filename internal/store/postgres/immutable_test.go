package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/storetest"
)

// appRole is the role migration 00004 creates for the application.
const appRole = "countersign_app"

// tamper runs statements behind the store's back as the table owner who
// first switches off the audit log's triggers: what an attacker with the
// owner's rights can do, and what checkpoints are there to detect.
func tamper(t testing.TB, pool *pgxpool.Pool, statements ...string) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		all := append(append([]string{`ALTER TABLE audit_events DISABLE TRIGGER USER`}, statements...), `ALTER TABLE audit_events ENABLE TRIGGER USER`)
		for _, stmt := range all {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func appendEvents(t *testing.T, s countersign.AuditLog, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		e := countersign.AuditEvent{
			ID: fmt.Sprintf("ev-%d", i), DocumentID: "d1", Type: countersign.EventDecisionRecorded, Actor: "rita",
			Channel: countersign.ChannelAPI, At: time.Date(2026, 3, 14, 9, 0, i, 0, time.UTC), Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		}
		if _, err := s.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, s countersign.AuditLog, checkpoints ...countersign.ChainPoint) countersign.ChainReport {
	t.Helper()
	report, err := audit.Verify(context.Background(), s, checkpoints...)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// TestAuditEventsAreAppendOnly: even the table's owner (here a superuser)
// cannot change, remove or truncate audit events without first switching
// the triggers off.
func TestAuditEventsAreAppendOnly(t *testing.T) {
	s := open(t).(*postgres.Store)
	appendEvents(t, s, 1, 3)
	for _, tc := range []struct{ statement, message string }{
		{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`, "audit_events is append-only: UPDATE of audit event 2 refused"},
		{`UPDATE audit_events SET data = '{"n":9}', hash = hash`, "audit_events is append-only: UPDATE of audit event"},
		{`DELETE FROM audit_events WHERE seq = 3`, "audit_events is append-only: DELETE of audit event 3 refused"},
		{`DELETE FROM audit_events`, "audit_events is append-only: DELETE of audit event"},
		{`TRUNCATE audit_events`, "audit_events is append-only: TRUNCATE refused"},
	} {
		_, err := s.Pool().Exec(context.Background(), tc.statement)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "P0001" || !strings.Contains(pgErr.Message, tc.message) {
			t.Errorf("%s: %v, want the exception %q", tc.statement, err, tc.message)
		}
	}
	if r := verify(t, s); !r.OK || r.Events != 3 {
		t.Fatalf("after the refused changes: %+v, want 3 events that verify", r)
	}
	appendEvents(t, s, 4, 4)
	if r := verify(t, s); !r.OK || r.Events != 4 {
		t.Fatalf("appending after the refused changes: %+v, want 4 events that verify", r)
	}
}

// asApp returns the URL of the same database for a session that runs as the
// application role. The test server's superuser may take any role.
func asApp(t *testing.T, databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c role="+appRole)
	u.RawQuery = q.Encode()
	return u.String()
}

// openAsApp migrates a new database as its owner and opens the store on it
// as the application role; it returns the store and the owner's URL.
func openAsApp(t *testing.T) (*postgres.Store, string) {
	ctx := context.Background()
	owner := pgtest.Database(t)
	migrated, err := postgres.Open(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	migrated.Close()
	s, err := postgres.Open(ctx, asApp(t, owner))
	if err != nil {
		t.Fatalf("open as %s: %v", appRole, err)
	}
	t.Cleanup(func() { s.Close() })
	var role string
	if err := s.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil || role != appRole {
		t.Fatalf("current_user = %q, %v; want %s", role, err, appRole)
	}
	return s, owner
}

// TestAppRoleCannotChangeTheAuditLog: the application role appends and
// reads audit events and works on the other tables, but can neither change
// nor remove an event, nor switch off the triggers, nor drop the table.
func TestAppRoleCannotChangeTheAuditLog(t *testing.T) {
	ctx := context.Background()
	s, _ := openAsApp(t)
	doc := &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "body", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	accepted := countersign.StatusAccepted
	if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Status: &accepted}); err != nil {
		t.Fatalf("the application role may update documents: %v", err)
	}
	appendEvents(t, s, 1, 3)
	for _, statement := range []string{
		`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`,
		`DELETE FROM audit_events WHERE seq = 3`,
		`TRUNCATE audit_events`,
		`ALTER TABLE audit_events DISABLE TRIGGER USER`,
		`DROP TABLE audit_events`,
	} {
		_, err := s.Pool().Exec(ctx, statement)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as %s: %v, want insufficient privilege (42501)", statement, appRole, err)
		}
	}
	if r := verify(t, s); !r.OK || r.Events != 3 {
		t.Fatalf("%+v, want 3 events that verify", r)
	}
}

// TestConformanceAsAppRole runs the whole suite with the store connected as
// the application role: its grants are enough for everything countersign
// does, tables of later migrations included.
func TestConformanceAsAppRole(t *testing.T) {
	var (
		mu     sync.Mutex
		owners = map[countersign.Store]string{}
	)
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) countersign.Store {
			s, owner := openAsApp(t)
			mu.Lock()
			owners[s] = owner
			mu.Unlock()
			return s
		},
		Exec: func(t *testing.T, s countersign.Store, statement string) {
			mu.Lock()
			owner := owners[s]
			mu.Unlock()
			pool, err := pgxpool.New(context.Background(), owner)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			tamper(t, pool, statement)
		},
	})
}

// TestCheckpointDetectsARewrittenChain: an attacker with the owner's rights
// rewrites an event and recomputes every hash after it, so that the chain
// verifies on its own; a checkpoint signed before names the rewrite, and
// also a chain cut short. A checkpoint still holds as the chain grows.
func TestCheckpointDetectsARewrittenChain(t *testing.T) {
	ctx := context.Background()
	s := open(t).(*postgres.Store)
	appendEvents(t, s, 1, 5)
	key, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	report := verify(t, s)
	checkpoint, err := audit.Sign(key, countersign.ChainPoint{Seq: report.Events, Hash: report.Head}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	appendEvents(t, s, 6, 8)
	if r := verify(t, s, checkpoint.Point()); !r.OK || r.Events != 8 || len(r.Checkpoints) != 1 {
		t.Fatalf("three events after the checkpoint: %+v, want 8 events that verify", r)
	}

	var events []countersign.AuditEvent
	if err := s.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		events = append(events, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var statements []string
	for i := 2; i < len(events); i++ {
		e := events[i]
		if i == 2 {
			e.Data = json.RawMessage(`{"n":333}`)
		}
		audit.Seal(&e, &events[i-1])
		events[i] = e
		statements = append(statements, fmt.Sprintf(`UPDATE audit_events SET data = '%s', prev_hash = '%s', hash = '%s' WHERE seq = %d`, e.Data, e.PrevHash, e.Hash, e.Seq))
	}
	tamper(t, s.Pool(), statements...)
	if r := verify(t, s); !r.OK {
		t.Fatalf("the rewritten chain should verify on its own, as the attacker meant: %+v", r)
	}
	r := verify(t, s, checkpoint.Point())
	if r.OK || r.Broken == nil || r.Broken.Seq != 5 || !strings.Contains(r.Broken.Reason, "events 1 to 5 were rewritten") {
		t.Fatalf("held to the checkpoint: %+v, want broken at event 5, rewritten", r)
	}

	tamper(t, s.Pool(), `DELETE FROM audit_events WHERE seq > 3`)
	r = verify(t, s, checkpoint.Point())
	if r.OK || r.Broken == nil || r.Broken.Seq != 4 || !strings.Contains(r.Broken.Reason, "events 4 to 5 are missing") {
		t.Fatalf("cut to 3 events: %+v, want events 4 to 5 missing", r)
	}
}
