package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// FilterMarker stands in a query's WHERE clause, in its .sql file, where the
// conditions of a Filter go. Alone it is true, selecting every row.
const FilterMarker = "/* filter */ TRUE"

// Filter is the part of a query's WHERE clause that depends on what the
// caller asks for: conditions that must all hold. Both stores build it the
// same way, with DocumentConditions and ReviewConditions; each store's
// Dialect then writes it into the query in place of FilterMarker, its
// arguments numbered after the query's own. The rest of the query stays in
// its .sql file, so sqlc types it and reads its rows.
type Filter struct {
	conditions []condition
}

type condition struct {
	// sql holds a ? for each of args.
	sql  string
	args []any
	// in, when set, is a list that sql, a column, must be one of.
	in []string
}

// Where adds a condition, each ? in it standing for the next of args.
func (f *Filter) Where(sql string, args ...any) {
	if n := strings.Count(sql, "?"); n != len(args) {
		panic(fmt.Sprintf("filter condition %q has %d placeholders for %d arguments", sql, n, len(args)))
	}
	f.conditions = append(f.conditions, condition{sql: sql, args: args})
}

// In adds the condition that column is one of values.
func (f *Filter) In(column string, values []string) {
	f.conditions = append(f.conditions, condition{sql: column, in: values})
}

// Dialect is how a database is passed a filter's arguments.
type Dialect struct {
	// Param writes the placeholder of the n-th argument, counting from 1.
	Param func(n int) string
	// Arrays says that a list is passed as one array argument (= ANY);
	// otherwise each of its values is an argument of an IN list.
	Arrays bool
	// Time writes a time as the database takes it.
	Time func(time.Time) any
}

// Postgres passes a list as one array and a time as it is.
var Postgres = Dialect{
	Param:  func(n int) string { return fmt.Sprintf("$%d", n) },
	Arrays: true,
	Time:   func(t time.Time) any { return Time(t) },
}

// SQLite passes each value of a list and a time as the text it keeps.
var SQLite = Dialect{
	Param: func(n int) string { return fmt.Sprintf("?%d", n) },
	Time:  func(t time.Time) any { return FormatTime(t) },
}

// Apply writes f into query in place of FilterMarker, its placeholders
// numbered after args, the query's own arguments; it returns the query and
// all its arguments.
func (d Dialect) Apply(f Filter, query string, args []any) (string, []any, error) {
	if !strings.Contains(query, FilterMarker) {
		return "", nil, fmt.Errorf("the query has no %q for its filter", FilterMarker)
	}
	if len(f.conditions) == 0 {
		return query, args, nil
	}
	all := append(make([]any, 0, len(args)+2*len(f.conditions)), args...)
	arg := func(v any) string {
		if t, ok := v.(time.Time); ok {
			v = d.Time(t)
		}
		all = append(all, v)
		return d.Param(len(all))
	}
	var where strings.Builder
	for i, c := range f.conditions {
		if i > 0 {
			where.WriteString(" AND ")
		}
		switch {
		case c.in != nil && d.Arrays:
			fmt.Fprintf(&where, "%s = ANY(%s)", c.sql, arg(c.in))
		case c.in != nil:
			params := make([]string, len(c.in))
			for j, v := range c.in {
				params[j] = arg(v)
			}
			fmt.Fprintf(&where, "%s IN (%s)", c.sql, strings.Join(params, ", "))
		default:
			parts := strings.Split(c.sql, "?")
			for j, part := range parts {
				where.WriteString(part)
				if j < len(c.args) {
					where.WriteString(arg(c.args[j]))
				}
			}
		}
	}
	return strings.Replace(query, FilterMarker, where.String(), 1), all, nil
}

// DocumentConditions is the filter of a page of a document scan: f's
// parts, and the place after which the page starts (none for the first).
// Whether gold documents are scanned is the choice of query.
func DocumentConditions(f countersign.DocumentFilter, after *DocumentKey) Filter {
	var w Filter
	if f.TaskType != "" {
		w.Where("task_type = ?", f.TaskType)
	}
	if f.Batch != "" {
		w.Where("batch = ?", f.Batch)
	}
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, status := range f.Statuses {
			statuses[i] = string(status)
		}
		w.In("status", statuses)
	}
	if !f.Since.IsZero() {
		w.Where("created_at >= ?", Time(f.Since))
	}
	if !f.Until.IsZero() {
		w.Where("created_at < ?", Time(f.Until))
	}
	if after != nil {
		w.Where("(created_at, id) > (?, ?)", after.CreatedAt, after.ID)
	}
	return w
}

// ReviewConditions is the filter of a page of reviews; a cursor that is not
// one is a bad request.
func ReviewConditions(f countersign.ReviewFilter) (Filter, error) {
	w := reviewFilter(f)
	switch f.Order {
	case countersign.ReviewsByCreation, countersign.ReviewsByDue:
	case countersign.ReviewsByValue:
		return Filter{}, countersign.Errorf(countersign.CodeInternal, "the value order is paged by store.ValuePage")
	default:
		return Filter{}, countersign.Errorf(countersign.CodeBadRequest, "unknown review order %q: use %q (the soonest due first), %q (overdue first, then the least confident) or none (creation order)", f.Order, countersign.ReviewsByDue, countersign.ReviewsByValue)
	}
	if f.Cursor != "" {
		c, err := DecodeCursor(f.Cursor, f.Order)
		if err != nil {
			return Filter{}, err
		}
		if f.Order == countersign.ReviewsByDue {
			w.Where("(due_at, confidence, created_at, id) > (?, ?, ?, ?)", c.DueAt, c.Confidence, c.CreatedAt, c.ID)
		} else {
			w.Where("(created_at, id) > (?, ?)", c.CreatedAt, c.ID)
		}
	}
	return w, nil
}

// reviewFilter is the conditions of f that do not depend on its order.
func reviewFilter(f countersign.ReviewFilter) Filter {
	var w Filter
	if f.Status != "" {
		w.Where("status = ?", string(f.Status))
	}
	if f.TaskType != "" {
		w.Where("task_type = ?", f.TaskType)
	}
	if len(f.TaskTypes) > 0 {
		w.In("task_type", f.TaskTypes)
	}
	if f.Kind != "" {
		w.Where("kind = ?", string(f.Kind))
	}
	return w
}

// Candidates are the reviews a person may claim, best first: those they
// hold (held) of f's task types and kind, then the others (free, in their
// order), at most limit, each once.
func Candidates(held, free []countersign.Review, f countersign.ReviewFilter, limit int) []countersign.Review {
	out := make([]countersign.Review, 0, min(limit, len(held)+len(free)))
	seen := map[string]bool{}
	keep := func(r countersign.Review) bool {
		switch {
		case seen[r.ID], len(out) >= limit:
			return false
		case f.TaskType != "" && r.TaskType != f.TaskType:
			return false
		case len(f.TaskTypes) > 0 && !slices.Contains(f.TaskTypes, r.TaskType):
			return false
		case f.Kind != "" && r.Kind != f.Kind:
			return false
		}
		return true
	}
	for _, r := range append(held, free...) {
		if keep(r) {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}
