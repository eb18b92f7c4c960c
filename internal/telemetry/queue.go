package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/countersign/countersign"
)

// QueueCap bounds how many pending reviews one collection reads. Reviews
// are listed oldest first, so the oldest age is exact and a count at the cap
// means "at least this many".
const QueueCap = 5000

// queuePage is the page size of a collection: the stores' largest.
const queuePage = 500

// queueTimeout bounds one collection's reads, so that a slow store does not
// hold a scrape.
const queueTimeout = 5 * time.Second

// Reviews is what the queue gauges read.
type Reviews interface {
	ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error)
}

// ObserveQueue registers the gauges of the review queue on mp: pending
// reviews and the age of the oldest, by task type and kind. They are read
// from the store at each collection, by listing pending reviews up to
// QueueCap. The task types named report 0 when nothing of theirs is
// pending, rather than no figure. Every process that registers the gauges
// reports the same figures, so aggregate them with max, not sum. now is the
// clock of the ages.
func ObserveQueue(mp metric.MeterProvider, reviews Reviews, taskTypes []string, now func() time.Time) (metric.Registration, error) {
	meter := mp.Meter(Scope)
	pending, err1 := meter.Int64ObservableGauge("countersign_reviews_pending",
		metric.WithDescription("Pending reviews by task type and kind, read from the store (at most 5000 are counted)."))
	oldest, err2 := meter.Float64ObservableGauge("countersign_reviews_oldest_pending_age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest pending review by task type and kind, read from the store."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		counts, ages, err := readQueue(ctx, reviews, now())
		if err != nil {
			// No figure rather than a wrong one: an empty queue is not
			// what a store that does not answer shows.
			return err
		}
		for _, name := range taskTypes {
			for _, kind := range []countersign.ReviewKind{countersign.ReviewGate, countersign.ReviewAudit} {
				key := queueKey{name, string(kind)}
				if _, seen := counts[key]; !seen {
					counts[key] = 0
				}
			}
		}
		for key, n := range counts {
			attrs := metric.WithAttributes(keyTaskType.String(key.taskType), keyKind.String(key.kind))
			o.ObserveInt64(pending, int64(n), attrs)
			o.ObserveFloat64(oldest, ages[key], attrs)
		}
		return nil
	}, pending, oldest)
}

type queueKey struct{ taskType, kind string }

// readQueue counts pending reviews and the age of the oldest, up to
// QueueCap reviews.
func readQueue(ctx context.Context, reviews Reviews, now time.Time) (map[queueKey]int, map[queueKey]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, queueTimeout)
	defer cancel()
	counts, ages := map[queueKey]int{}, map[queueKey]float64{}
	f := countersign.ReviewFilter{Status: countersign.ReviewPending, Limit: queuePage}
	for read := 0; read < QueueCap; {
		page, err := reviews.ListReviews(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range page.Reviews {
			key := queueKey{r.TaskType, reviewKind(r.Kind)}
			if _, seen := counts[key]; !seen {
				ages[key] = max(now.Sub(r.CreatedAt), 0).Seconds()
			}
			counts[key]++
		}
		read += len(page.Reviews)
		if page.NextCursor == "" || len(page.Reviews) == 0 {
			break
		}
		f.Cursor = page.NextCursor
	}
	return counts, ages, nil
}
