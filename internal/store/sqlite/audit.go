package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// AppendAudit chains e after the current head; see countersign.AuditLog.
// The transaction on the single write connection serializes appends.
func (s *Store) AppendAudit(ctx context.Context, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		stored, err := q.AuditEvent(ctx, e.ID)
		if err == nil {
			e, err = auditEvent(stored)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var prev *countersign.AuditEvent
		row, err := q.AuditHead(ctx)
		switch {
		case err == nil:
			head, err := auditEvent(row)
			if err != nil {
				return err
			}
			prev = &head
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		audit.Seal(&e, prev)
		return q.AppendAudit(ctx, dbsqlc.AppendAuditParams{
			Seq: e.Seq, ID: e.ID, DocumentID: e.DocumentID, Type: e.Type, Actor: e.Actor, Channel: string(e.Channel),
			At: store.FormatTime(e.At), Data: string(e.Data), PrevHash: e.PrevHash, Hash: e.Hash, TraceID: e.TraceID,
		})
	})
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	return e, nil
}

// DocumentAudit returns a document's events in chain order.
func (s *Store) DocumentAudit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	events, err := auditRows(s.read.DocumentAudit(ctx, documentID))
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
		rows, err = s.read.AuditOfDocuments(ctx, documentIDs)
	} else {
		rows, err = s.read.AuditOfDocumentsOfTypes(ctx, dbsqlc.AuditOfDocumentsOfTypesParams{DocumentIds: documentIDs, Types: types})
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
		return auditRows(s.read.ScanAudit(ctx, dbsqlc.ScanAuditParams{After: after, PageSize: store.ScanBatch}))
	}, fn)
}

// auditEvent reads an audit event's row.
func auditEvent(r dbsqlc.AuditEvent) (countersign.AuditEvent, error) {
	var t times
	e := countersign.AuditEvent{
		Seq: r.Seq, ID: r.ID, DocumentID: r.DocumentID, Type: r.Type, Actor: r.Actor, Channel: countersign.Channel(r.Channel),
		At: t.at(r.At), Data: []byte(r.Data), PrevHash: r.PrevHash, Hash: r.Hash, TraceID: r.TraceID,
	}
	return e, t.err
}

func auditRows(rows []dbsqlc.AuditEvent, err error) ([]countersign.AuditEvent, error) {
	return store.Map(rows, err, auditEvent)
}
