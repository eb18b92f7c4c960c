package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// auditLock is the advisory lock key that serializes audit appends ("cs-audit").
const auditLock = 0x63732d6175646974

// The append's statements are written here rather than in dbsqlc/audit.sql:
// they go out as two pipelines of several statements each, which the
// generated functions, a round trip per statement, cannot send.
const (
	auditColumns = `seq, id, document_id, type, actor, channel, at, data, prev_hash, hash, trace_id`
	// auditEventOrHead reads the event if a retry stored it already, and the
	// head of the chain.
	auditEventOrHead = `(SELECT ` + auditColumns + ` FROM audit_events WHERE id = $1)
		UNION ALL (SELECT ` + auditColumns + ` FROM audit_events ORDER BY seq DESC LIMIT 1)`
	insertAuditEvent = `INSERT INTO audit_events (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
)

// AppendAudit chains e after the current head; see countersign.AuditLog.
//
// It takes two round trips instead of one per statement: the first begins a
// transaction, takes the chain's advisory lock and reads both the event (if
// a retry already stored it) and the head; the second inserts and commits.
// Statements of a pipeline run in order and, at READ COMMITTED (set
// explicitly, whatever the server's default), each takes a fresh snapshot,
// so the head is read after the lock is held. A connection an error leaves inside
// the transaction is destroyed on release, never reused.
func (s *Store) AppendAudit(ctx context.Context, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, classify(err))
	}
	defer conn.Release()
	stored, err := appendAudit(ctx, conn.Conn(), e)
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, classify(err))
	}
	return stored, nil
}

func appendAudit(ctx context.Context, conn *pgx.Conn, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	read := &pgx.Batch{}
	read.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	read.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(auditLock))
	read.Queue(auditEventOrHead, e.ID)
	results := conn.SendBatch(ctx, read)
	_, err := results.Exec()
	if err == nil {
		_, err = results.Exec()
	}
	var found []countersign.AuditEvent
	if err == nil {
		var rows pgx.Rows
		if rows, err = results.Query(); err == nil {
			found, err = pgx.CollectRows(rows, scanAuditEvent)
		}
	}
	if closeErr := results.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return e, err
	}

	var head *countersign.AuditEvent
	for i := range found {
		if found[i].ID == e.ID {
			_, err := conn.Exec(ctx, `COMMIT`)
			return found[i], err
		}
		head = &found[i]
	}
	audit.Seal(&e, head)
	write := &pgx.Batch{}
	write.Queue(insertAuditEvent,
		e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel), e.At, string(e.Data), e.PrevHash, e.Hash, e.TraceID)
	write.Queue(`COMMIT`)
	return e, conn.SendBatch(ctx, write).Close()
}

// DocumentAudit returns a document's events in chain order.
func (s *Store) DocumentAudit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	events, err := auditRows(s.q.DocumentAudit(ctx, documentID))
	if err != nil {
		return nil, fmt.Errorf("audit of document %s: %w", documentID, err)
	}
	return events, nil
}

// AuditOfDocuments returns the events of several documents whose type is one
// of types (any type when none are given), in chain order.
func (s *Store) AuditOfDocuments(ctx context.Context, documentIDs []string, types []string) ([]countersign.AuditEvent, error) {
	if len(documentIDs) == 0 {
		return nil, nil
	}
	var (
		rows []dbsqlc.AuditEvent
		err  error
	)
	if len(types) == 0 {
		rows, err = s.q.AuditOfDocuments(ctx, documentIDs)
	} else {
		rows, err = s.q.AuditOfDocumentsOfTypes(ctx, dbsqlc.AuditOfDocumentsOfTypesParams{DocumentIds: documentIDs, Types: types})
	}
	events, err := auditRows(rows, err)
	if err != nil {
		return nil, fmt.Errorf("audit of %d documents: %w", len(documentIDs), err)
	}
	return events, nil
}

// ScanAudit calls fn for every event after the given sequence number.
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(countersign.AuditEvent) error) error {
	return store.Scan(ctx, after, func(ctx context.Context, after int64) ([]countersign.AuditEvent, error) {
		return auditRows(s.q.ScanAudit(ctx, dbsqlc.ScanAuditParams{After: after, PageSize: store.ScanBatch}))
	}, fn)
}

// auditEvent reads an audit event's row.
func auditEvent(r dbsqlc.AuditEvent) (countersign.AuditEvent, error) {
	return countersign.AuditEvent{
		Seq: r.Seq, ID: r.ID, DocumentID: r.DocumentID, Type: r.Type, Actor: r.Actor, Channel: countersign.Channel(r.Channel),
		At: r.At.UTC(), Data: []byte(r.Data), PrevHash: r.PrevHash, Hash: r.Hash, TraceID: r.TraceID,
	}, nil
}

// scanAuditEvent reads a row of auditColumns.
func scanAuditEvent(row pgx.CollectableRow) (countersign.AuditEvent, error) {
	r, err := pgx.RowToStructByPos[dbsqlc.AuditEvent](row)
	if err != nil {
		return countersign.AuditEvent{}, err
	}
	return auditEvent(r)
}

func auditRows(rows []dbsqlc.AuditEvent, err error) ([]countersign.AuditEvent, error) {
	return store.Map(rows, err, auditEvent)
}
