// Package postgres is the production store, on PostgreSQL through pgx. Any
// number of worker and API replicas share one database; the audit chain stays
// linear because appends take a transaction-scoped advisory lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// auditLock is the advisory lock key that serializes audit appends ("cs-audit").
const auditLock = 0x63732d6175646974

// Store is the Postgres implementation of countersign.Store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var _ countersign.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...) and applies pending
// migrations; replicas starting together take turns through a session lock.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &Store{pool: pool, now: time.Now}, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, store.Migrations(migrations, "migrations"),
		goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// SetClock replaces the store's clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Pool returns the connection pool, for tests that tamper with rows.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

const documentColumns = `id, task_type, task_type_version, external_id, content, content_sha256, metadata,
	status, submitted_by, created_at, updated_at, draft, confidence, route, final, channel`

// CreateDocument stores doc unless its ID is taken; then it returns the stored one.
func (s *Store) CreateDocument(ctx context.Context, doc *countersign.Document) (*countersign.Document, bool, error) {
	metadata, err := store.JSON(doc.Metadata)
	if err != nil {
		return nil, false, err
	}
	if metadata == nil {
		metadata = "{}"
	}
	created := store.Time(doc.CreatedAt)
	tag, err := s.pool.Exec(ctx, `INSERT INTO documents (`+documentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, NULL, NULL, NULL, NULL, $11)
		ON CONFLICT (id) DO NOTHING`,
		doc.ID, doc.TaskType, doc.TaskTypeVersion, doc.ExternalID, doc.Content, doc.ContentSHA256, metadata,
		string(doc.Status), doc.SubmittedBy, created, string(doc.Channel))
	if err != nil {
		return nil, false, fmt.Errorf("create document %s: %w", doc.ID, classify(err))
	}
	stored, err := s.GetDocument(ctx, doc.ID)
	return stored, tag.RowsAffected() == 1, err
}

// GetDocument returns a document with its body.
func (s *Store) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	d, err := scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, err)
	}
	return d, nil
}

// ScanDocuments calls fn for every document f selects, oldest first.
func (s *Store) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	statuses := make([]string, len(f.Statuses))
	for i, status := range f.Statuses {
		statuses[i] = string(status)
	}
	return store.ScanDocuments(ctx, func(ctx context.Context, after *store.DocumentKey) ([]*countersign.Document, error) {
		var w conditions
		if f.TaskType != "" {
			w.add("task_type = ?", f.TaskType)
		}
		if len(statuses) > 0 {
			w.add("status = ANY(?)", statuses)
		}
		if !f.Since.IsZero() {
			w.add("created_at >= ?", store.Time(f.Since))
		}
		if !f.Until.IsZero() {
			w.add("created_at < ?", store.Time(f.Until))
		}
		if f.Gold {
			w.add("EXISTS (SELECT 1 FROM gold_documents g WHERE g.document_id = documents.id)")
		} else {
			w.add("NOT EXISTS (SELECT 1 FROM gold_documents g WHERE g.document_id = documents.id)")
		}
		if after != nil {
			w.add("(created_at, id) > (?, ?)", after.CreatedAt, after.ID)
		}
		rows, err := s.pool.Query(ctx, `SELECT `+documentColumns+` FROM documents WHERE `+w.String()+
			fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(w.args)+1), append(w.args, store.DocumentBatch)...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*countersign.Document, error) { return scanDocument(row) })
	}, fn)
}

// scanDocument reads a row of documentColumns.
func scanDocument(row pgx.Row) (*countersign.Document, error) {
	var (
		d                               countersign.Document
		metadata                        string
		draft, confidence, route, final *string
	)
	if err := row.Scan(&d.ID, &d.TaskType, &d.TaskTypeVersion, &d.ExternalID, &d.Content, &d.ContentSHA256, &metadata,
		&d.Status, &d.SubmittedBy, &d.CreatedAt, &d.UpdatedAt, &draft, &confidence, &route, &final, &d.Channel); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if err := store.DecodeState(&d, metadata, draft, confidence, route, final); err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	return &d, nil
}

// UpdateDocument sets the non-nil parts of u.
func (s *Store) UpdateDocument(ctx context.Context, id string, u countersign.DocumentUpdate) error {
	columns, args, err := store.UpdateColumns(u)
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, classify(err))
	}
	columns, args = append(columns, "updated_at"), append(args, store.Time(s.now()), id)
	sets := make([]string, len(columns))
	for i, column := range columns {
		sets[i] = fmt.Sprintf("%s = $%d", column, i+1)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET `+strings.Join(sets, ", ")+fmt.Sprintf(` WHERE id = $%d`, len(args)), args...)
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return countersign.Errorf(countersign.CodeNotFound, "document %s not found", id)
	}
	return nil
}

const reviewColumns = `id, document_id, task_type, kind, status, created_at, due_at, closed_at, confidence, reasons, outcome, closed_by`

// OpenReview stores a pending review; opening it again is a no-op.
func (s *Store) OpenReview(ctx context.Context, r *countersign.Review) error {
	reasons, err := store.JSON(r.Reasons)
	if err != nil {
		return err
	}
	if reasons == nil {
		reasons = "[]"
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO reviews (`+reviewColumns+`)
		VALUES ($1, $2, $3, $4, 'pending', $5, $6, NULL, $7, $8, '', '') ON CONFLICT (id) DO NOTHING`,
		r.ID, r.DocumentID, r.TaskType, store.ReviewKind(r.Kind), store.Time(r.CreatedAt), store.Time(r.DueAt), r.Confidence, reasons)
	if err != nil {
		return fmt.Errorf("open review %s: %w", r.ID, classify(err))
	}
	return nil
}

// GetReview returns a review.
func (s *Store) GetReview(ctx context.Context, id string) (*countersign.Review, error) {
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get review %s: %w", id, err)
	}
	if len(reviews) == 0 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "review %s not found", id)
	}
	return &reviews[0], nil
}

// ListReviews returns a page of reviews in creation order.
func (s *Store) ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error) {
	var w conditions
	if f.Status != "" {
		w.add("status = ?", string(f.Status))
	}
	if f.TaskType != "" {
		w.add("task_type = ?", f.TaskType)
	}
	if len(f.TaskTypes) > 0 {
		w.add("task_type = ANY(?)", f.TaskTypes)
	}
	if f.Kind != "" {
		w.add("kind = ?", string(f.Kind))
	}
	if f.Cursor != "" {
		at, id, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return countersign.ReviewPage{}, err
		}
		w.add("(created_at, id) > (?, ?)", at, id)
	}
	limit := store.PageSize(f.Limit)
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE `+w.String()+
		fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(w.args)+1), append(w.args, limit+1)...)
	if err != nil {
		return countersign.ReviewPage{}, fmt.Errorf("list reviews: %w", err)
	}
	return store.Page(reviews, limit), nil
}

// conditions builds a WHERE clause whose placeholders are numbered in the
// order the conditions are added.
type conditions struct {
	where []string
	args  []any
}

// add appends cond, each ? in it standing for the next of values.
func (c *conditions) add(cond string, values ...any) {
	for _, v := range values {
		c.args = append(c.args, v)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(c.args)), 1)
	}
	c.where = append(c.where, cond)
}

// String joins the conditions; no condition selects every row.
func (c *conditions) String() string {
	if len(c.where) == 0 {
		return "TRUE"
	}
	return strings.Join(c.where, " AND ")
}

// ReviewsForDocument returns a document's reviews.
func (s *Store) ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error) {
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE document_id = $1 ORDER BY created_at, id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("reviews of document %s: %w", documentID, err)
	}
	return reviews, nil
}

func (s *Store) queryReviews(ctx context.Context, query string, args ...any) ([]countersign.Review, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (countersign.Review, error) {
		var (
			r       countersign.Review
			reasons string
		)
		if err := row.Scan(&r.ID, &r.DocumentID, &r.TaskType, &r.Kind, &r.Status, &r.CreatedAt, &r.DueAt, &r.ClosedAt,
			&r.Confidence, &reasons, &r.Outcome, &r.ClosedBy); err != nil {
			return r, err
		}
		r.CreatedAt, r.DueAt = r.CreatedAt.UTC(), r.DueAt.UTC()
		if r.ClosedAt != nil {
			t := r.ClosedAt.UTC()
			r.ClosedAt = &t
		}
		list, err := store.Unmarshal[[]string](&reasons)
		if list != nil {
			r.Reasons = *list
		}
		return r, err
	})
}

// RecordDecision stores a decision and, when close is set, closes its review.
func (s *Store) RecordDecision(ctx context.Context, d *countersign.Decision, close bool) error {
	fields, err := store.JSON(d.Fields)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO decisions (id, review_id, document_id, action, fields, reason, actor, role, channel, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.ReviewID, d.DocumentID, string(d.Action), fields, d.Reason, d.Actor, string(d.Role), string(d.Channel), store.Time(d.At))
		if err != nil {
			return fmt.Errorf("record decision %s: %w", d.ID, classify(err))
		}
		if tag.RowsAffected() == 1 && close {
			if _, err := tx.Exec(ctx, `UPDATE reviews SET status = 'closed', closed_at = $1, outcome = $2, closed_by = $3
				WHERE id = $4 AND status = 'pending'`, store.Time(d.At), string(d.Action), d.Actor, d.ReviewID); err != nil {
				return fmt.Errorf("close review %s: %w", d.ReviewID, classify(err))
			}
		}
		return nil
	})
}

// CloseReviews closes a document's pending reviews without a decision.
func (s *Store) CloseReviews(ctx context.Context, documentID string, at time.Time, closedBy string) error {
	_, err := s.pool.Exec(ctx, `UPDATE reviews SET status = 'closed', closed_at = $1, closed_by = $2
		WHERE document_id = $3 AND status = 'pending'`, store.Time(at), closedBy, documentID)
	if err != nil {
		return fmt.Errorf("close reviews of document %s: %w", documentID, classify(err))
	}
	return nil
}

// Decisions returns a document's decisions in order.
func (s *Store) Decisions(ctx context.Context, documentID string) ([]countersign.Decision, error) {
	out, err := s.queryDecisions(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE document_id = $1 ORDER BY at, id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("decisions of document %s: %w", documentID, err)
	}
	return out, nil
}

const auditColumns = `seq, id, document_id, type, actor, channel, at, data, prev_hash, hash, trace_id`

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
	read.Queue(`(SELECT `+auditColumns+` FROM audit_events WHERE id = $1)
		UNION ALL (SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1)`, e.ID)
	results := conn.SendBatch(ctx, read)
	_, err := results.Exec()
	if err == nil {
		_, err = results.Exec()
	}
	var found []countersign.AuditEvent
	if err == nil {
		var rows pgx.Rows
		if rows, err = results.Query(); err == nil {
			found, err = pgx.CollectRows(rows, scanAudit)
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
	write.Queue(`INSERT INTO audit_events (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel), e.At, string(e.Data), e.PrevHash, e.Hash, e.TraceID)
	write.Queue(`COMMIT`)
	return e, conn.SendBatch(ctx, write).Close()
}

// DocumentAudit returns a document's events in chain order.
func (s *Store) DocumentAudit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	events, err := queryAudit(ctx, s.pool, `SELECT `+auditColumns+` FROM audit_events WHERE document_id = $1 ORDER BY seq`, documentID)
	if err != nil {
		return nil, fmt.Errorf("audit of document %s: %w", documentID, err)
	}
	return events, nil
}

// ScanAudit calls fn for every event after the given sequence number.
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(countersign.AuditEvent) error) error {
	return store.Scan(ctx, after, func(ctx context.Context, after int64) ([]countersign.AuditEvent, error) {
		return queryAudit(ctx, s.pool, `SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, store.ScanBatch)
	}, fn)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// classify gives Postgres errors that no retry can fix an error code: data
// the server refuses (class 22, such as a NUL character in text) is
// invalid, and a violated constraint (class 23) is a conflict. Other errors
// (a lost connection, a failover) stay uncoded, for the caller to retry.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case strings.HasPrefix(pgErr.Code, "22"):
		return countersign.Errorf(countersign.CodeInvalid, "the database refused the data (%s %s): %w", pgErr.Code, pgErr.Message, err)
	case strings.HasPrefix(pgErr.Code, "23"):
		return countersign.Errorf(countersign.CodeConflict, "the database refused the change (%s %s): %w", pgErr.Code, pgErr.ConstraintName, err)
	}
	return err
}

func queryAudit(ctx context.Context, q querier, query string, args ...any) ([]countersign.AuditEvent, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanAudit)
}

func scanAudit(row pgx.CollectableRow) (countersign.AuditEvent, error) {
	var (
		e    countersign.AuditEvent
		data string
	)
	err := row.Scan(&e.Seq, &e.ID, &e.DocumentID, &e.Type, &e.Actor, &e.Channel, &e.At, &data, &e.PrevHash, &e.Hash, &e.TraceID)
	e.At, e.Data = e.At.UTC(), []byte(data)
	return e, err
}

// PutTaskType stores a task type snapshot once.
func (s *Store) PutTaskType(ctx context.Context, snap countersign.TaskTypeSnapshot) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO task_types (version, name, source, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (version) DO NOTHING`, snap.Version, snap.Name, snap.Source, store.Time(snap.CreatedAt))
	if err != nil {
		return fmt.Errorf("store task type %s@%s: %w", snap.Name, snap.Version, classify(err))
	}
	return nil
}

// GetTaskType returns a stored task type snapshot.
func (s *Store) GetTaskType(ctx context.Context, version string) (*countersign.TaskTypeSnapshot, error) {
	var snap countersign.TaskTypeSnapshot
	err := s.pool.QueryRow(ctx, `SELECT version, name, source, created_at FROM task_types WHERE version = $1`, version).
		Scan(&snap.Version, &snap.Name, &snap.Source, &snap.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "task type version %s not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("get task type %s: %w", version, err)
	}
	snap.CreatedAt = snap.CreatedAt.UTC()
	return &snap, nil
}

// PutCalibration stores a calibration once per task type and version.
func (s *Store) PutCalibration(ctx context.Context, c *countersign.Calibration) error {
	data, err := store.CalibrationJSON(c)
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO calibrations (task_type, version, created_at, created_by, active, calibration)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_type, version) DO NOTHING`,
		c.TaskType, c.Version, store.Time(c.CreatedAt), c.CreatedBy, c.Active, data)
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, classify(err))
	}
	return nil
}

// LatestCalibration returns the newest calibration of a task type.
func (s *Store) LatestCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	return s.calibration(ctx, taskType, false)
}

// ActiveCalibration returns the newest calibration of a task type stored
// active.
func (s *Store) ActiveCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	return s.calibration(ctx, taskType, true)
}

// calibration reads the newest calibration of a task type, or the newest
// active one. The active column is the truth: a calibration stored before
// it existed has no active in its JSON.
func (s *Store) calibration(ctx context.Context, taskType string, activeOnly bool) (*countersign.Calibration, error) {
	query, which := `SELECT calibration, active FROM calibrations WHERE task_type = $1
		ORDER BY created_at DESC, seq DESC LIMIT 1`, "calibration"
	if activeOnly {
		query, which = `SELECT calibration, active FROM calibrations WHERE task_type = $1 AND active
		ORDER BY created_at DESC, seq DESC LIMIT 1`, "active calibration"
	}
	var (
		data   string
		active bool
	)
	err := s.pool.QueryRow(ctx, query, taskType).Scan(&data, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "no %s of task type %s", which, taskType)
	}
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", which, taskType, err)
	}
	c, err := store.Unmarshal[countersign.Calibration](&data)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", which, taskType, err)
	}
	c.Active = active
	return c, nil
}
