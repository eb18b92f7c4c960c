package store

import (
	"context"
	"time"

	"github.com/countersign/countersign"
)

// ValueLister lists, from one store, up to n reviews that match where:
// the soonest due first (then the least confident) or, byRank, the lowest
// countersign.Review.Rank first (then the soonest due), each then in
// creation order.
type ValueLister func(ctx context.Context, where Filter, byRank bool, n int) ([]countersign.Review, error)

// ValuePage is a page of reviews in countersign.ReviewsByValue order, from
// two index-served lists: the overdue reviews, the most overdue first,
// then the rest by rank (countersign.Review.Rank), the least confident
// first, a risk review counted as likelier wrong. Its cursor says which list it
// stopped in. A review that falls due between two pages moves from the
// second list to the first, so a reader paging slowly may see it twice or,
// once past the overdue part, not again: the queue is live, and its first
// page is always right.
func ValuePage(ctx context.Context, f countersign.ReviewFilter, list ValueLister) (countersign.ReviewPage, error) {
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = Time(now)
	limit := PageSize(f.Limit)
	var after *Cursor
	if f.Cursor != "" {
		c, err := DecodeCursor(f.Cursor, countersign.ReviewsByValue)
		if err != nil {
			return countersign.ReviewPage{}, err
		}
		after = &c
	}
	var out []countersign.Review
	if after == nil || after.Overdue {
		w := reviewFilter(f)
		w.Where("due_at <= ?", now)
		if after != nil {
			w.Where("(due_at, confidence, created_at, id) > (?, ?, ?, ?)", after.DueAt, after.Confidence, after.CreatedAt, after.ID)
		}
		overdue, err := list(ctx, w, false, limit+1)
		if err != nil {
			return countersign.ReviewPage{}, err
		}
		out = overdue
		after = nil
	}
	if len(out) <= limit {
		w := reviewFilter(f)
		w.Where("due_at > ?", now)
		if after != nil {
			w.Where("(rank, due_at, created_at, id) > (?, ?, ?, ?)", after.Confidence, after.DueAt, after.CreatedAt, after.ID)
		}
		rest, err := list(ctx, w, true, limit+1-len(out))
		if err != nil {
			return countersign.ReviewPage{}, err
		}
		out = append(out, rest...)
	}
	p := countersign.ReviewPage{Reviews: out}
	if len(out) > limit {
		last := out[limit-1]
		p.Reviews, p.NextCursor = out[:limit], encodeValueCursor(last, !last.DueAt.After(now))
	}
	return p, nil
}
