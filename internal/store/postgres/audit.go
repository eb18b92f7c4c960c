package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

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
	// auditEventsOrHead reads the events a retry stored already, of those
	// IDs, and the head of the chain (the row of the highest seq).
	auditEventsOrHead = `(SELECT ` + auditColumns + ` FROM audit_events WHERE id = ANY($1))
		UNION ALL (SELECT ` + auditColumns + ` FROM audit_events ORDER BY seq DESC LIMIT 1)`
	// auditEventOrHead is auditEventsOrHead for one ID, which Postgres
	// answers sooner.
	auditEventOrHead = `(SELECT ` + auditColumns + ` FROM audit_events WHERE id = $1)
		UNION ALL (SELECT ` + auditColumns + ` FROM audit_events ORDER BY seq DESC LIMIT 1)`
	insertAuditEvent = `INSERT INTO audit_events (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
)

// maxAppendBatch bounds how many appends one transaction carries.
const maxAppendBatch = 256

// appendTimeout bounds the transaction of a group that holds other
// callers' appends; each caller waits no longer than its own context
// allows.
const appendTimeout = time.Minute

// AppendAudit chains e after the current head; see countersign.AuditLog.
//
// Appends are serialized by the chain, across replicas, by an advisory lock
// held for the transaction. To keep that lock from being the bottleneck,
// appends of one store commit in groups: an append that arrives while a
// group is being written waits for the next group, which takes everything
// that waited, up to maxAppendBatch, in one transaction, so that one lock,
// one head lookup and one commit serve them all. Alone, an append is
// written at once, as before. Each append still gets its own result: when
// a group's transaction fails, its appends are written again one by one, so
// that data Postgres refuses fails only the append that carries it.
//
// A caller whose context ends while its append waits or is being written
// gets the context's error; the append may still land, as any write whose
// answer was lost may, and a retry under the same ID returns it.
func (s *Store) AppendAudit(ctx context.Context, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	req := &appendRequest{event: e, done: make(chan struct{})}
	q := &s.appends
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return e, fmt.Errorf("append audit event %s: the store is closed", e.ID)
	}
	q.queue = append(q.queue, req)
	if q.writing {
		q.mu.Unlock()
		select {
		case <-req.done:
		case <-ctx.Done():
			return e, fmt.Errorf("append audit event %s: %w", e.ID, ctx.Err())
		}
	} else {
		// Nobody writes: this caller writes the group it heads itself,
		// without a hand-off to another goroutine, then leaves what queued
		// meanwhile to one.
		q.writing = true
		group := q.take()
		q.mu.Unlock()
		// Whatever writeGroup does, even panic, the appends that queued
		// meanwhile are left to a writer, or failed once the store closes.
		defer q.handOff(s)
		s.writeGroup(ctx, group, len(group) == 1)
	}
	if req.err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, classify(req.err))
	}
	return req.stored, nil
}

// appendQueue is the appends waiting to be written, and whether someone
// is writing them; closed once the store closes.
type appendQueue struct {
	mu      sync.Mutex
	queue   []*appendRequest
	writing bool
	closed  bool
	wg      sync.WaitGroup
}

// handOff ends a caller's own write: the appends queued meanwhile go to a
// writer goroutine, or, once the store is closed, fail.
func (q *appendQueue) handOff(s *Store) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case len(q.queue) == 0:
		q.writing = false
	case q.closed:
		for _, req := range q.queue {
			req.err = fmt.Errorf("the store is closed")
			close(req.done)
		}
		q.queue, q.writing = nil, false
	default:
		q.wg.Add(1)
		go s.writeAppends()
	}
}

// take removes the next group from the queue; q.mu is held.
func (q *appendQueue) take() []*appendRequest {
	n := min(len(q.queue), maxAppendBatch)
	group := q.queue[:n:n]
	q.queue = q.queue[n:]
	return group
}

// appendRequest is one append, and its result once done is closed.
type appendRequest struct {
	event  countersign.AuditEvent
	stored countersign.AuditEvent
	err    error
	done   chan struct{}
}

// writeAppends writes the queued appends in groups until none is left.
func (s *Store) writeAppends() {
	q := &s.appends
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.writing = false
			q.mu.Unlock()
			return
		}
		group := q.take()
		q.mu.Unlock()
		s.writeGroup(context.Background(), group, false)
	}
}

// writeGroup writes a group in one transaction, or, when that fails and
// the group holds more than one append, each on its own; then tells each
// caller. A group that is only the append of ctx's caller (own) runs
// under ctx; one that holds other callers' appends runs under ctx's values
// but not its end, for at most appendTimeout.
func (s *Store) writeGroup(ctx context.Context, group []*appendRequest, own bool) {
	if !own {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), appendTimeout)
		defer cancel()
	}
	if err := s.appendInTx(ctx, group); err != nil {
		if len(group) == 1 {
			group[0].err = err
		} else {
			for _, req := range group {
				req.err = s.appendInTx(ctx, []*appendRequest{req})
			}
		}
	}
	for _, req := range group {
		close(req.done)
	}
}

// appendInTx appends a group's events in one transaction, in two round
// trips instead of one per statement: the first begins the transaction,
// takes the chain's advisory lock and reads both the events a retry stored
// already and the head; the second inserts the rest and commits. Statements
// of a pipeline run in order and, at READ COMMITTED (set explicitly,
// whatever the server's default), each takes a fresh snapshot, so the head
// is read after the lock is held. A connection an error leaves inside the
// transaction is destroyed on release, never reused. Each request's stored
// event is set only when the transaction commits.
func (s *Store) appendInTx(ctx context.Context, group []*appendRequest) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()

	ids := make([]string, len(group))
	for i, req := range group {
		ids[i] = req.event.ID
	}
	read := &pgx.Batch{}
	read.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	read.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(auditLock))
	if len(ids) == 1 {
		read.Queue(auditEventOrHead, ids[0])
	} else {
		read.Queue(auditEventsOrHead, ids)
	}
	results := conn.SendBatch(ctx, read)
	_, err = results.Exec()
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
		return err
	}

	var head *countersign.AuditEvent
	stored := make(map[string]countersign.AuditEvent, len(group))
	for i := range found {
		stored[found[i].ID] = found[i]
		if head == nil || found[i].Seq > head.Seq {
			head = &found[i]
		}
	}
	write := &pgx.Batch{}
	sealed := make([]countersign.AuditEvent, len(group))
	for i, req := range group {
		if prior, ok := stored[req.event.ID]; ok {
			// Stored by an earlier attempt, or earlier in this group.
			sealed[i] = prior
			continue
		}
		e := req.event
		audit.Seal(&e, head)
		write.Queue(insertAuditEvent,
			e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel), e.At, string(e.Data), e.PrevHash, e.Hash, e.TraceID)
		stored[e.ID] = e
		sealed[i] = e
		head = &sealed[i]
	}
	write.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, write).Close(); err != nil {
		return err
	}
	for i, req := range group {
		req.stored = sealed[i]
	}
	return nil
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
