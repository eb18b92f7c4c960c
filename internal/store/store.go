// Package store holds what the Postgres and SQLite stores share: how values
// are written to JSON columns, how review cursors are encoded, how scans
// page and how times are normalized. The stores themselves live in postgres/
// and sqlite/, and storetest/ is the conformance suite both pass.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// DefaultPageSize is the review page size when the filter sets none.
const DefaultPageSize = 50

// MaxPageSize bounds a page of reviews.
const MaxPageSize = 500

// ScanBatch is how many audit events a scan reads at a time.
const ScanBatch = 500

// DocumentBatch is how many documents a document scan reads at a time. It is
// smaller than ScanBatch because every document comes with its body, which
// may be megabytes (5 MiB by default): 100 bodies bound a batch at 500 MiB
// in the worst case, while small documents still take few queries.
const DocumentBatch = 100

// PageSize clamps a requested page size.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// Time normalizes a time to what both stores keep: UTC, microseconds.
func Time(t time.Time) time.Time { return audit.Time(t) }

// FormatTime writes a time as SQLite keeps it.
func FormatTime(t time.Time) string { return Time(t).Format(audit.TimeLayout) }

// ParseTime reads a time written by FormatTime.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// JSON encodes v for a JSON column; nil (or a nil pointer, map or slice)
// becomes SQL NULL.
func JSON(v any) (any, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, nil
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if rv.IsNil() {
			return nil, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Unmarshal decodes a nullable JSON column into a new T, or nil for NULL.
func Unmarshal[T any](raw *string) (*T, error) {
	if raw == nil || *raw == "" || *raw == "null" {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(*raw), v); err != nil {
		return nil, err
	}
	return v, nil
}

// Page cuts a query result of up to limit+1 reviews into a page, with the
// cursor of the next page when there is more.
func Page(reviews []countersign.Review, limit int) countersign.ReviewPage {
	p := countersign.ReviewPage{Reviews: reviews}
	if len(reviews) > limit {
		p.Reviews = reviews[:limit]
		p.NextCursor = EncodeCursor(reviews[limit-1])
	}
	return p
}

// UpdateColumns lists the columns a partial document update sets and their
// values, JSON columns encoded; each store writes its own placeholders.
func UpdateColumns(u countersign.DocumentUpdate) ([]string, []any, error) {
	var (
		columns []string
		values  []any
	)
	if u.Status != nil {
		columns, values = append(columns, "status"), append(values, string(*u.Status))
	}
	for _, part := range []struct {
		column string
		value  any
		set    bool
	}{
		{"draft", u.Draft, u.Draft != nil},
		{"confidence", u.Confidence, u.Confidence != nil},
		{"route", u.Route, u.Route != nil},
		{"final", u.Final, u.Final != nil},
	} {
		if !part.set {
			continue
		}
		v, err := JSON(part.value)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", part.column, err)
		}
		columns, values = append(columns, part.column), append(values, v)
	}
	return columns, values, nil
}

// Scan pages through the audit chain for a store's ScanAudit: page returns
// up to ScanBatch events with a sequence number above after, in order.
func Scan(ctx context.Context, after int64, page func(ctx context.Context, after int64) ([]countersign.AuditEvent, error), fn func(countersign.AuditEvent) error) error {
	for {
		events, err := page(ctx, after)
		if err != nil {
			return fmt.Errorf("scan audit after %d: %w", after, err)
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < ScanBatch {
			return nil
		}
	}
}

// DocumentKey is a document's place in scan order: creation time, then ID.
type DocumentKey struct {
	CreatedAt time.Time
	ID        string
}

// ScanDocuments pages through documents for a store's ScanDocuments: page
// returns up to DocumentBatch of the selected documents that come after
// after (all of them when after is nil), oldest first. Each batch is read
// whole before fn sees any of it, so no query stays open while fn runs.
func ScanDocuments(ctx context.Context, page func(ctx context.Context, after *DocumentKey) ([]*countersign.Document, error), fn func(*countersign.Document) error) error {
	var after *DocumentKey
	for {
		docs, err := page(ctx, after)
		if err != nil {
			return fmt.Errorf("scan documents: %w", err)
		}
		if len(docs) == 0 {
			return nil
		}
		// Taken before fn runs, which may change the document it is given.
		last := DocumentKey{CreatedAt: docs[len(docs)-1].CreatedAt, ID: docs[len(docs)-1].ID}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(docs) < DocumentBatch {
			return nil
		}
		after = &last
	}
}

// CalibrationJSON encodes a calibration for its JSON column, its creation
// time normalized as the created_at column keeps it, so that both agree.
func CalibrationJSON(c *countersign.Calibration) (string, error) {
	stored := *c
	stored.CreatedAt = Time(c.CreatedAt)
	b, err := json.Marshal(&stored)
	return string(b), err
}

// ReviewKind is the kind a review is stored with: its own, or the gate when
// it names none, which is what every review was before audits.
func ReviewKind(k countersign.ReviewKind) string {
	if k == "" {
		return string(countersign.ReviewGate)
	}
	return string(k)
}

// OverrideJSON encodes a policy override for its JSON column, its times
// normalized as the at and reset_at columns keep them, so that all agree.
func OverrideJSON(o *countersign.PolicyOverride) (string, error) {
	stored := *o
	stored.At = Time(o.At)
	if o.ResetAt != nil {
		t := Time(*o.ResetAt)
		stored.ResetAt = &t
	}
	b, err := json.Marshal(&stored)
	return string(b), err
}

// OverrideInForce is the conflict of putting o while active, another
// override of its task type, is in force.
func OverrideInForce(o, active *countersign.PolicyOverride) error {
	return countersign.Errorf(countersign.CodeConflict, "task type %s already has override %s in force since %s; it must be reset before override %s",
		o.TaskType, active.ID, FormatTime(active.At), o.ID)
}

// Reset ends the stored override o for a store's ResetOverride: it sets who
// reset it, when and why, and reports whether o changed. Resetting again
// with the same person and reason changes nothing, since that is an activity
// retrying; any other reset of an override already reset is a conflict.
func Reset(o *countersign.PolicyOverride, by, reason string, at time.Time) (bool, error) {
	if o.ResetAt != nil {
		if o.ResetBy == by && o.ResetReason == reason {
			return false, nil
		}
		return false, countersign.Errorf(countersign.CodeConflict, "override %s was already reset by %s at %s",
			o.ID, o.ResetBy, FormatTime(*o.ResetAt))
	}
	t := Time(at)
	o.ResetBy, o.ResetAt, o.ResetReason = by, &t, reason
	return true, nil
}

// DecodeState fills a document's metadata and state from their JSON columns.
func DecodeState(d *countersign.Document, metadata string, draft, confidence, route, final *string) error {
	meta, err := Unmarshal[map[string]string](&metadata)
	if err != nil {
		return err
	}
	if meta != nil && len(*meta) > 0 {
		d.Metadata = *meta
	}
	if d.Draft, err = Unmarshal[countersign.Draft](draft); err != nil {
		return err
	}
	if d.Confidence, err = Unmarshal[countersign.Confidence](confidence); err != nil {
		return err
	}
	if d.Route, err = Unmarshal[countersign.Route](route); err != nil {
		return err
	}
	d.Final, err = Unmarshal[countersign.Final](final)
	return err
}

// EncodeCursor writes the position after a review.
func EncodeCursor(r countersign.Review) string {
	return base64.RawURLEncoding.EncodeToString([]byte(FormatTime(r.CreatedAt) + "|" + r.ID))
}

// DecodeCursor reads a cursor written by EncodeCursor.
func DecodeCursor(cursor string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		if at, id, ok := strings.Cut(string(raw), "|"); ok {
			if t, err := ParseTime(at); err == nil {
				return t, id, nil
			}
		}
	}
	return time.Time{}, "", countersign.Errorf(countersign.CodeBadRequest, "invalid cursor %q", cursor)
}

// Migrations returns the dir subtree of an embedded migrations file system.
func Migrations(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("embedded migrations %s: %v", dir, err))
	}
	return sub
}
