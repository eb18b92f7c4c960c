// Package store holds what the Postgres and SQLite stores share: how values
// are written to JSON columns, how review cursors are encoded, and how times
// are normalized. The stores themselves live in postgres/ and sqlite/, and
// storetest/ is the conformance suite both pass.
package store

import (
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
