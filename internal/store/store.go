// Package store holds what the Postgres and SQLite stores share: how values
// are written to JSON columns, how review cursors are encoded, how scans
// page, how times are normalized and how a filter becomes the conditions of
// a query. The stores themselves live in postgres/ and sqlite/, each with
// its queries as SQL in dbsqlc/ and the Go code sqlc generates from them
// (sqlc.yaml; `make generate`), and storetest/ is the conformance suite
// both pass.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"strconv"
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

// OptionalTime normalizes a time that may be absent.
func OptionalTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := Time(*t)
	return &n
}

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

// JSON encodes v for a nullable JSON column; nil (or a nil pointer, map or
// slice) becomes SQL NULL.
func JSON(v any) (*string, error) {
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
	s := string(b)
	return &s, nil
}

// JSONOr encodes v for a JSON column that is never NULL: empty stands for a
// nil v.
func JSONOr(v any, empty string) (string, error) {
	s, err := JSON(v)
	if err != nil || s == nil {
		return empty, err
	}
	return *s, nil
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

// Decode decodes the JSON column of a value kept whole (a calibration, an
// override, a certificate, a policy version) that a query read, unless the
// query failed: Decode[T](q.Certificate(ctx, id)).
func Decode[T any](raw string, err error) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	err = json.Unmarshal([]byte(raw), &v)
	return v, err
}

// DecodeAll decodes the rows of such a column, unless the query failed.
func DecodeAll[T any](raws []string, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, len(raws))
	for i, raw := range raws {
		if out[i], err = Decode[T](raw, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Map reads the rows a query returned into domain values with read,
// unless the query failed.
func Map[R, T any](rows []R, err error, read func(R) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, row := range rows {
		if out[i], err = read(row); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Groups is how a token's or a Slack link's groups are stored: a JSON array,
// empty rather than null when there are none.
func Groups(groups []string) (string, error) {
	if groups == nil {
		groups = []string{}
	}
	b, err := json.Marshal(groups)
	return string(b), err
}

// DecodeGroups reads groups stored by Groups; none is nil.
func DecodeGroups(raw string) ([]string, error) {
	var groups []string
	if err := json.Unmarshal([]byte(raw), &groups); err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	return groups, nil
}

// GoldAnswer is how a gold item's answer is stored: a JSON object, empty
// rather than null when there is none.
func GoldAnswer(answer countersign.Fields) (string, error) { return JSONOr(answer, "{}") }

// DecodeGoldAnswer reads an answer stored by GoldAnswer; an empty one is nil.
func DecodeGoldAnswer(raw string) (countersign.Fields, error) {
	var answer countersign.Fields
	if err := json.Unmarshal([]byte(raw), &answer); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if len(answer) == 0 {
		return nil, nil
	}
	return answer, nil
}

// Refusal returns err when it is a store's answer to its caller (not
// found, or a conflict the store found, such as an override already reset),
// which the store returns as it is; otherwise nil.
func Refusal(err error) error {
	var refusal *countersign.Error
	if errors.As(err, &refusal) {
		return err
	}
	return nil
}

// Page cuts a query result of up to limit+1 reviews into a page, with the
// cursor of the next page when there is more.
func Page(reviews []countersign.Review, limit int, order countersign.ReviewOrder) countersign.ReviewPage {
	p := countersign.ReviewPage{Reviews: reviews}
	if len(reviews) > limit {
		p.Reviews = reviews[:limit]
		p.NextCursor = EncodeCursor(reviews[limit-1], order)
	}
	return p
}

// DocumentChanges are the parts of a document a partial update sets, JSON
// parts encoded; nil parts are left as they are.
type DocumentChanges struct {
	Status                          *string
	Draft, Confidence, Route, Final *string
}

// Changes encodes the non-nil parts of u.
func Changes(u countersign.DocumentUpdate) (DocumentChanges, error) {
	var (
		c   DocumentChanges
		err error
	)
	if u.Status != nil {
		status := string(*u.Status)
		c.Status = &status
	}
	for _, part := range []struct {
		column string
		value  any
		to     **string
	}{
		{"draft", u.Draft, &c.Draft},
		{"confidence", u.Confidence, &c.Confidence},
		{"route", u.Route, &c.Route},
		{"final", u.Final, &c.Final},
	} {
		if *part.to, err = JSON(part.value); err != nil {
			return c, fmt.Errorf("%s: %w", part.column, err)
		}
	}
	return c, nil
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

// OverrideJSON encodes a policy override for its JSON column, its times
// normalized as the at and reset_at columns keep them, so that all agree.
func OverrideJSON(o *countersign.PolicyOverride) (string, error) {
	stored := *o
	stored.At = Time(o.At)
	stored.ResetAt = OptionalTime(o.ResetAt)
	b, err := json.Marshal(&stored)
	return string(b), err
}

// CertificateJSON gives c its times as both stores keep them and returns it
// as JSON for the certificate column.
func CertificateJSON(c *countersign.Certificate) (string, error) {
	c.Since, c.Until, c.CreatedAt = Time(c.Since), Time(c.Until), Time(c.CreatedAt)
	b, err := json.Marshal(c)
	return string(b), err
}

// PolicyVersionJSON gives v its time as both stores keep it and returns it
// as JSON for the version column.
func PolicyVersionJSON(v *countersign.PolicyVersion) (string, error) {
	v.CreatedAt = Time(v.CreatedAt)
	b, err := json.Marshal(v)
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

// Labels reads the rows of DocumentLabels, each an ID, an external ID and
// metadata as JSON text.
func Labels[R any](rows []R, err error, cols func(R) (id, externalID, metadata string)) (map[string]countersign.DocumentLabel, error) {
	if err != nil {
		return nil, fmt.Errorf("labels of documents: %w", err)
	}
	labels := make(map[string]countersign.DocumentLabel, len(rows))
	for _, r := range rows {
		id, externalID, metadata := cols(r)
		meta, err := Unmarshal[map[string]string](&metadata)
		if err != nil {
			return nil, fmt.Errorf("labels of documents: document %s: %w", id, err)
		}
		label := countersign.DocumentLabel{ExternalID: externalID}
		if meta != nil {
			label.Metadata = *meta
		}
		labels[id] = label
	}
	return labels, nil
}

// DecodeReasons reads a review's reasons from their JSON column.
func DecodeReasons(raw string) ([]string, error) {
	list, err := Unmarshal[[]string](&raw)
	if err != nil || list == nil {
		return nil, err
	}
	return *list, nil
}

// DecodeFields reads a decision's fields from their JSON column.
func DecodeFields(raw *string) (countersign.Fields, error) {
	f, err := Unmarshal[countersign.Fields](raw)
	if err != nil || f == nil {
		return nil, err
	}
	return *f, nil
}

// EncodeCursor writes the position after a review in the given order.
func EncodeCursor(r countersign.Review, order countersign.ReviewOrder) string {
	raw := FormatTime(r.CreatedAt) + "|" + r.ID
	if order == countersign.ReviewsByDue {
		raw = "due|" + FormatTime(r.DueAt) + "|" + strconv.FormatFloat(r.Confidence, 'g', -1, 64) + "|" + raw
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// encodeValueCursor writes the position after r in the value order, in
// its overdue part or the rest.
func encodeValueCursor(r countersign.Review, overdue bool) string {
	part := "rest"
	if overdue {
		part = "overdue"
	}
	// Past the overdue part the order is by rank, which the cursor keeps
	// where the confidence stands.
	key := r.Confidence
	if !overdue {
		key = r.Rank()
	}
	raw := "value|" + part + "|" + FormatTime(r.DueAt) + "|" + strconv.FormatFloat(key, 'g', -1, 64) + "|" + FormatTime(r.CreatedAt) + "|" + r.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Cursor is the position a cursor written by EncodeCursor holds: the
// review it follows, with the keys of its order.
type Cursor struct {
	Order      countersign.ReviewOrder
	DueAt      time.Time
	Confidence float64
	CreatedAt  time.Time
	ID         string
	// Overdue is, in the value order, whether the review the cursor
	// follows was in its overdue part.
	Overdue bool
}

// DecodeCursor reads a cursor written by EncodeCursor for the given order;
// anything else, a cursor of another order included, is a bad request.
func DecodeCursor(cursor string, order countersign.ReviewOrder) (Cursor, error) {
	bad := func(why string) (Cursor, error) {
		return Cursor{}, countersign.Errorf(countersign.CodeBadRequest, "invalid cursor %q: %s; pass the next_cursor of the previous page of the same order", cursor, why)
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not base64url")
	}
	text := string(raw)
	c := Cursor{Order: countersign.ReviewsByCreation}
	if rest, ok := strings.CutPrefix(text, "value|"); ok {
		part, keys, _ := strings.Cut(rest, "|")
		if part != "overdue" && part != "rest" {
			return bad("not a cursor")
		}
		c.Overdue, text = part == "overdue", "due|"+keys
	}
	if rest, ok := strings.CutPrefix(text, "due|"); ok {
		parts := strings.SplitN(rest, "|", 3)
		if len(parts) != 3 {
			return bad("not a cursor")
		}
		if c.DueAt, err = ParseTime(parts[0]); err != nil {
			return bad("not a cursor")
		}
		if c.Confidence, err = strconv.ParseFloat(parts[1], 64); err != nil || math.IsNaN(c.Confidence) || math.IsInf(c.Confidence, 0) {
			return bad("not a cursor")
		}
		order := countersign.ReviewsByDue
		if strings.HasPrefix(string(raw), "value|") {
			order = countersign.ReviewsByValue
		}
		c.Order, text = order, parts[2]
	}
	at, id, ok := strings.Cut(text, "|")
	if !ok {
		return bad("not a cursor")
	}
	if c.CreatedAt, err = ParseTime(at); err != nil {
		return bad("not a cursor")
	}
	c.ID = id
	if c.Order != order {
		return bad(fmt.Sprintf("it continues the %s order, not the %s one", orderName(c.Order), orderName(order)))
	}
	return c, nil
}

func orderName(o countersign.ReviewOrder) string {
	if o == countersign.ReviewsByCreation {
		return "creation"
	}
	return string(o)
}

// Migrations returns the dir subtree of an embedded migrations file system.
func Migrations(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("embedded migrations %s: %v", dir, err))
	}
	return sub
}
