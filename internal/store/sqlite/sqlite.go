// Package sqlite is the embedded store: one SQLite file, no server. It is the
// default of `countersign dev` and suits one process; production runs use the
// Postgres store.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of countersign.Store. Writes go through
// a single connection, so they are serialized (which is also what keeps the
// audit chain linear); reads use a pool of read-only connections.
type Store struct {
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
}

var _ countersign.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	return &Store{write: write, read: read, now: time.Now}, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, store.Migrations(migrations, "migrations"))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// SetClock replaces the store's clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.read.PingContext(ctx) }

// Close closes both connection pools.
func (s *Store) Close() error { return errors.Join(s.read.Close(), s.write.Close()) }

// DB returns the write connection, for tests that tamper with rows.
func (s *Store) DB() *sql.DB { return s.write }

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
	res, err := s.write.ExecContext(ctx, `INSERT INTO documents (`+documentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?)
		ON CONFLICT (id) DO NOTHING`,
		doc.ID, doc.TaskType, doc.TaskTypeVersion, doc.ExternalID, doc.Content, doc.ContentSHA256, metadata,
		doc.Status, doc.SubmittedBy, store.FormatTime(doc.CreatedAt), store.FormatTime(doc.CreatedAt), doc.Channel)
	if err != nil {
		return nil, false, fmt.Errorf("create document %s: %w", doc.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, err
	}
	stored, err := s.GetDocument(ctx, doc.ID)
	return stored, n == 1, err
}

// GetDocument returns a document with its body.
func (s *Store) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	d, err := scanDocument(s.read.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, err)
	}
	return d, nil
}

// ScanDocuments calls fn for every document f selects, oldest first. Batches
// are read on the read pool, never on the single write connection.
func (s *Store) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	return store.ScanDocuments(ctx, func(ctx context.Context, after *store.DocumentKey) ([]*countersign.Document, error) {
		var (
			where []string
			args  []any
		)
		if f.TaskType != "" {
			where, args = append(where, "task_type = ?"), append(args, f.TaskType)
		}
		if len(f.Statuses) > 0 {
			where = append(where, "status IN (?"+strings.Repeat(", ?", len(f.Statuses)-1)+")")
			for _, status := range f.Statuses {
				args = append(args, string(status))
			}
		}
		if !f.Since.IsZero() {
			where, args = append(where, "created_at >= ?"), append(args, store.FormatTime(f.Since))
		}
		if !f.Until.IsZero() {
			where, args = append(where, "created_at < ?"), append(args, store.FormatTime(f.Until))
		}
		if f.Gold {
			where = append(where, "id IN (SELECT document_id FROM gold_documents)")
		} else {
			where = append(where, "id NOT IN (SELECT document_id FROM gold_documents)")
		}
		if after != nil {
			where, args = append(where, "(created_at, id) > (?, ?)"), append(args, store.FormatTime(after.CreatedAt), after.ID)
		}
		query := `SELECT ` + documentColumns + ` FROM documents`
		if len(where) > 0 {
			query += ` WHERE ` + strings.Join(where, " AND ")
		}
		rows, err := s.read.QueryContext(ctx, query+` ORDER BY created_at, id LIMIT ?`, append(args, store.DocumentBatch)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var docs []*countersign.Document
		for rows.Next() {
			d, err := scanDocument(rows)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
		return docs, rows.Err()
	}, fn)
}

// scanner is a row of a query: *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanDocument reads a row of documentColumns.
func scanDocument(row scanner) (*countersign.Document, error) {
	var (
		d                               countersign.Document
		metadata, created, updated      string
		draft, confidence, route, final *string
	)
	if err := row.Scan(&d.ID, &d.TaskType, &d.TaskTypeVersion, &d.ExternalID, &d.Content, &d.ContentSHA256, &metadata,
		&d.Status, &d.SubmittedBy, &created, &updated, &draft, &confidence, &route, &final, &d.Channel); err != nil {
		return nil, err
	}
	if err := decodeDocument(&d, metadata, created, updated, draft, confidence, route, final); err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	return &d, nil
}

func decodeDocument(d *countersign.Document, metadata, created, updated string, draft, confidence, route, final *string) error {
	var err error
	if d.CreatedAt, err = store.ParseTime(created); err != nil {
		return err
	}
	if d.UpdatedAt, err = store.ParseTime(updated); err != nil {
		return err
	}
	return store.DecodeState(d, metadata, draft, confidence, route, final)
}

// UpdateDocument sets the non-nil parts of u.
func (s *Store) UpdateDocument(ctx context.Context, id string, u countersign.DocumentUpdate) error {
	columns, args, err := store.UpdateColumns(u)
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, err)
	}
	columns, args = append(columns, "updated_at"), append(args, store.FormatTime(s.now()), id)
	res, err := s.write.ExecContext(ctx, `UPDATE documents SET `+strings.Join(columns, " = ?, ")+` = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
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
	_, err = s.write.ExecContext(ctx, `INSERT INTO reviews (`+reviewColumns+`)
		VALUES (?, ?, ?, ?, 'pending', ?, ?, NULL, ?, ?, '', '') ON CONFLICT (id) DO NOTHING`,
		r.ID, r.DocumentID, r.TaskType, store.ReviewKind(r.Kind), store.FormatTime(r.CreatedAt), store.FormatTime(r.DueAt), r.Confidence, reasons)
	if err != nil {
		return fmt.Errorf("open review %s: %w", r.ID, err)
	}
	return nil
}

// GetReview returns a review.
func (s *Store) GetReview(ctx context.Context, id string) (*countersign.Review, error) {
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE id = ?`, id)
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
	where := []string{"1 = 1"}
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.TaskType != "" {
		where, args = append(where, "task_type = ?"), append(args, f.TaskType)
	}
	if len(f.TaskTypes) > 0 {
		where = append(where, "task_type IN (?"+strings.Repeat(", ?", len(f.TaskTypes)-1)+")")
		for _, tt := range f.TaskTypes {
			args = append(args, tt)
		}
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, string(f.Kind))
	}
	if f.Cursor != "" {
		at, id, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return countersign.ReviewPage{}, err
		}
		where, args = append(where, "(created_at, id) > (?, ?)"), append(args, store.FormatTime(at), id)
	}
	limit := store.PageSize(f.Limit)
	args = append(args, limit+1)
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at, id LIMIT ?`, args...)
	if err != nil {
		return countersign.ReviewPage{}, fmt.Errorf("list reviews: %w", err)
	}
	return store.Page(reviews, limit), nil
}

// ReviewsForDocument returns a document's reviews.
func (s *Store) ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error) {
	reviews, err := s.queryReviews(ctx, `SELECT `+reviewColumns+` FROM reviews WHERE document_id = ? ORDER BY created_at, id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("reviews of document %s: %w", documentID, err)
	}
	return reviews, nil
}

func (s *Store) queryReviews(ctx context.Context, query string, args ...any) ([]countersign.Review, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []countersign.Review
	for rows.Next() {
		var (
			r                countersign.Review
			created, due     string
			closed           *string
			reasons, outcome string
		)
		if err := rows.Scan(&r.ID, &r.DocumentID, &r.TaskType, &r.Kind, &r.Status, &created, &due, &closed,
			&r.Confidence, &reasons, &outcome, &r.ClosedBy); err != nil {
			return nil, err
		}
		r.Outcome = countersign.Action(outcome)
		var err error
		if r.CreatedAt, err = store.ParseTime(created); err != nil {
			return nil, err
		}
		if r.DueAt, err = store.ParseTime(due); err != nil {
			return nil, err
		}
		if closed != nil {
			t, err := store.ParseTime(*closed)
			if err != nil {
				return nil, err
			}
			r.ClosedAt = &t
		}
		list, err := store.Unmarshal[[]string](&reasons)
		if err != nil {
			return nil, err
		}
		if list != nil {
			r.Reasons = *list
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordDecision stores a decision and, when close is set, closes its review.
func (s *Store) RecordDecision(ctx context.Context, d *countersign.Decision, close bool) error {
	fields, err := store.JSON(d.Fields)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record decision %s: %w", d.ID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO decisions (id, review_id, document_id, action, fields, reason, actor, role, channel, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.ReviewID, d.DocumentID, string(d.Action), fields, d.Reason, d.Actor, string(d.Role), string(d.Channel), store.FormatTime(d.At))
	if err != nil {
		return fmt.Errorf("record decision %s: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 && close {
		if _, err := tx.ExecContext(ctx, `UPDATE reviews SET status = 'closed', closed_at = ?, outcome = ?, closed_by = ?
			WHERE id = ? AND status = 'pending'`, store.FormatTime(d.At), string(d.Action), d.Actor, d.ReviewID); err != nil {
			return fmt.Errorf("close review %s: %w", d.ReviewID, err)
		}
	}
	return tx.Commit()
}

// CloseReviews closes a document's pending reviews without a decision.
func (s *Store) CloseReviews(ctx context.Context, documentID string, at time.Time, closedBy string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE reviews SET status = 'closed', closed_at = ?, closed_by = ?
		WHERE document_id = ? AND status = 'pending'`, store.FormatTime(at), closedBy, documentID)
	if err != nil {
		return fmt.Errorf("close reviews of document %s: %w", documentID, err)
	}
	return nil
}

// Decisions returns a document's decisions in order.
func (s *Store) Decisions(ctx context.Context, documentID string) ([]countersign.Decision, error) {
	out, err := s.queryDecisions(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE document_id = ? ORDER BY at, id`, documentID)
	if err != nil {
		return nil, fmt.Errorf("decisions of document %s: %w", documentID, err)
	}
	return out, nil
}

const auditColumns = `seq, id, document_id, type, actor, channel, at, data, prev_hash, hash, trace_id`

// AppendAudit chains e after the current head; see countersign.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	defer tx.Rollback()
	existing, err := queryAudit(ctx, tx, `SELECT `+auditColumns+` FROM audit_events WHERE id = ?`, e.ID)
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	if len(existing) > 0 {
		return existing[0], nil
	}
	head, err := queryAudit(ctx, tx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	var prev *countersign.AuditEvent
	if len(head) > 0 {
		prev = &head[0]
	}
	audit.Seal(&e, prev)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel), store.FormatTime(e.At), string(e.Data), e.PrevHash, e.Hash, e.TraceID); err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return e, fmt.Errorf("append audit event %s: %w", e.ID, err)
	}
	return e, nil
}

// DocumentAudit returns a document's events in chain order.
func (s *Store) DocumentAudit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	events, err := queryAudit(ctx, s.read, `SELECT `+auditColumns+` FROM audit_events WHERE document_id = ? ORDER BY seq`, documentID)
	if err != nil {
		return nil, fmt.Errorf("audit of document %s: %w", documentID, err)
	}
	return events, nil
}

// ScanAudit calls fn for every event after the given sequence number.
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(countersign.AuditEvent) error) error {
	return store.Scan(ctx, after, func(ctx context.Context, after int64) ([]countersign.AuditEvent, error) {
		return queryAudit(ctx, s.read, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, store.ScanBatch)
	}, fn)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryAudit(ctx context.Context, q querier, query string, args ...any) ([]countersign.AuditEvent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []countersign.AuditEvent
	for rows.Next() {
		var (
			e        countersign.AuditEvent
			at, data string
		)
		if err := rows.Scan(&e.Seq, &e.ID, &e.DocumentID, &e.Type, &e.Actor, &e.Channel, &at, &data, &e.PrevHash, &e.Hash, &e.TraceID); err != nil {
			return nil, err
		}
		t, err := store.ParseTime(at)
		if err != nil {
			return nil, err
		}
		e.At, e.Data = t, []byte(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PutTaskType stores a task type snapshot once.
func (s *Store) PutTaskType(ctx context.Context, snap countersign.TaskTypeSnapshot) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO task_types (version, name, source, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (version) DO NOTHING`, snap.Version, snap.Name, snap.Source, store.FormatTime(snap.CreatedAt))
	if err != nil {
		return fmt.Errorf("store task type %s@%s: %w", snap.Name, snap.Version, err)
	}
	return nil
}

// GetTaskType returns a stored task type snapshot.
func (s *Store) GetTaskType(ctx context.Context, version string) (*countersign.TaskTypeSnapshot, error) {
	var (
		snap    countersign.TaskTypeSnapshot
		created string
	)
	err := s.read.QueryRowContext(ctx, `SELECT version, name, source, created_at FROM task_types WHERE version = ?`, version).
		Scan(&snap.Version, &snap.Name, &snap.Source, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "task type version %s not found", version)
	}
	if err != nil {
		return nil, fmt.Errorf("get task type %s: %w", version, err)
	}
	snap.CreatedAt, err = store.ParseTime(created)
	return &snap, err
}

// PutCalibration stores a calibration once per task type and version.
func (s *Store) PutCalibration(ctx context.Context, c *countersign.Calibration) error {
	data, err := store.CalibrationJSON(c)
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO calibrations (task_type, version, created_at, created_by, active, calibration)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_type, version) DO NOTHING`,
		c.TaskType, c.Version, store.FormatTime(c.CreatedAt), c.CreatedBy, c.Active, data)
	if err != nil {
		return fmt.Errorf("store calibration %s@%s: %w", c.TaskType, c.Version, err)
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
	query, which := `SELECT calibration, active FROM calibrations WHERE task_type = ?
		ORDER BY created_at DESC, seq DESC LIMIT 1`, "calibration"
	if activeOnly {
		query, which = `SELECT calibration, active FROM calibrations WHERE task_type = ? AND active = 1
		ORDER BY created_at DESC, seq DESC LIMIT 1`, "active calibration"
	}
	var (
		data   string
		active bool
	)
	err := s.read.QueryRowContext(ctx, query, taskType).Scan(&data, &active)
	if errors.Is(err, sql.ErrNoRows) {
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
