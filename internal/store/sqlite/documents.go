package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// CreateDocument stores doc unless its ID is taken; then it returns the stored one.
func (s *Store) CreateDocument(ctx context.Context, doc *countersign.Document) (*countersign.Document, bool, error) {
	metadata, err := store.JSONOr(doc.Metadata, "{}")
	if err != nil {
		return nil, false, err
	}
	draft, err := store.JSON(doc.Draft)
	if err != nil {
		return nil, false, err
	}
	var n int64
	create := func(q *dbsqlc.Queries) error {
		var err error
		n, err = q.CreateDocument(ctx, dbsqlc.CreateDocumentParams{
			ID: doc.ID, TaskType: doc.TaskType, TaskTypeVersion: doc.TaskTypeVersion, ExternalID: doc.ExternalID,
			Content: doc.Content, ContentSha256: doc.ContentSHA256, Metadata: metadata, Status: string(doc.Status),
			SubmittedBy: doc.SubmittedBy, CreatedAt: store.FormatTime(doc.CreatedAt), Channel: string(doc.Channel),
			Batch: doc.Batch, Draft: draft, OriginalSha256: doc.OriginalSHA256,
		})
		if err != nil || n == 0 || doc.Batch == "" {
			return err
		}
		return q.AddToBatch(ctx, dbsqlc.AddToBatchParams{Name: doc.Batch, At: store.FormatTime(doc.CreatedAt)})
	}
	if doc.Batch == "" {
		err = create(s.write)
	} else {
		// Counted into its batch in the same transaction, which the
		// reconciler's completion of the batch relies on (CompleteBatches).
		err = s.inTx(ctx, create)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create document %s: %w", doc.ID, err)
	}
	stored, err := s.GetDocument(ctx, doc.ID)
	return stored, n == 1, err
}

// GetDocument returns a document with its body.
func (s *Store) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	row, err := s.read.GetDocument(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, err)
	}
	return document(row)
}

// UpdateDocument sets the non-nil parts of u.
func (s *Store) UpdateDocument(ctx context.Context, id string, u countersign.DocumentUpdate) error {
	c, err := store.Changes(u)
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, err)
	}
	n, err := s.write.UpdateDocument(ctx, dbsqlc.UpdateDocumentParams{
		Status: c.Status, Draft: c.Draft, Confidence: c.Confidence, Route: c.Route, Final: c.Final,
		UpdatedAt: store.FormatTime(s.now()), ID: id,
	})
	if err != nil {
		return fmt.Errorf("update document %s: %w", id, err)
	}
	if n == 0 {
		return countersign.Errorf(countersign.CodeNotFound, "document %s not found", id)
	}
	return nil
}

// MarkDelivered sets the final record's delivered_at to at unless it has
// one, and returns the document as stored then.
func (s *Store) MarkDelivered(ctx context.Context, id string, at time.Time) (*countersign.Document, error) {
	deliveredAt, err := store.JSON(store.Time(at))
	if err != nil {
		return nil, fmt.Errorf("mark document %s delivered: %w", id, err)
	}
	row, err := s.write.MarkDelivered(ctx, dbsqlc.MarkDeliveredParams{DeliveredAt: *deliveredAt, UpdatedAt: store.FormatTime(s.now()), ID: id})
	if errors.Is(err, sql.ErrNoRows) {
		// Delivered already, or with no final record, or unknown.
		return s.GetDocument(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("mark document %s delivered: %w", id, err)
	}
	return document(row)
}

// DocumentLabels returns what names the documents with the given IDs,
// without their bodies.
func (s *Store) DocumentLabels(ctx context.Context, ids []string) (map[string]countersign.DocumentLabel, error) {
	if len(ids) == 0 {
		return map[string]countersign.DocumentLabel{}, nil
	}
	rows, err := s.read.DocumentLabels(ctx, ids)
	return store.Labels(rows, err, func(r dbsqlc.DocumentLabelsRow) (string, string, string) { return r.ID, r.ExternalID, r.Metadata })
}

// ScanDocuments calls fn for every document f selects, oldest first. Batches
// are read on the read pool, never on the single write connection.
func (s *Store) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	return store.ScanDocuments(ctx, func(ctx context.Context, after *store.DocumentKey) ([]*countersign.Document, error) {
		q := s.where(store.DocumentConditions(f, after))
		scan := q.ScanDocuments
		if f.Gold {
			scan = q.ScanGoldDocuments
		}
		rows, err := scan(ctx, store.DocumentBatch)
		return store.Map(rows, err, document)
	}, fn)
}

// document reads a document's row.
func document(r dbsqlc.Document) (*countersign.Document, error) {
	var t times
	d := &countersign.Document{
		ID: r.ID, TaskType: r.TaskType, TaskTypeVersion: r.TaskTypeVersion, ExternalID: r.ExternalID,
		Content: r.Content, ContentSHA256: r.ContentSha256, Status: countersign.Status(r.Status),
		SubmittedBy: r.SubmittedBy, Channel: countersign.Channel(r.Channel), Batch: r.Batch, OriginalSHA256: r.OriginalSha256,
		CreatedAt: t.at(r.CreatedAt), UpdatedAt: t.at(r.UpdatedAt),
	}
	err := t.err
	if err == nil {
		err = store.DecodeState(d, r.Metadata, r.Draft, r.Confidence, r.Route, r.Final)
	}
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	return d, nil
}
