package web_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
)

// BenchmarkQueueAtScale measures, at 1,000, 10,000 and 100,000 pending
// reviews (synthetic rows, due times and confidences drawn at random: see
// due), the latency of the queue's first page as the page polls it (GET
// /ui/queue/rows, the value order), of GET /v1/reviews?order=value, of GET
// /v1/reviews?order=due and of GET /v1/reviews (creation order), 300 requests each, one at a time. It reports p50 and
// p99 at each size and the p99 at 100,000 over the p99 at 1,000, the
// baseline of the same run: a queue sorted and paged in the store stays
// near 1. Run by make bench-queue; filling 100,000 reviews takes a minute
// or two.
func BenchmarkQueueAtScale(b *testing.B) {
	fixtureRateLimit = api.NoRateLimit
	defer func() { fixtureRateLimit = 0 }()
	for b.Loop() {
		f := newFixture(b)
		r := rand.New(rand.NewPCG(1, 2))
		reviewer := f.as(countersign.RoleReviewer)
		get := func(path string) func() (int, error) {
			return func() (int, error) {
				req, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
				req.Header.Set("Authorization", "Bearer "+f.tokens[countersign.RoleReviewer])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				_, err = io.Copy(io.Discard, resp.Body)
				return resp.StatusCode, err
			}
		}
		endpoints := []struct {
			name string
			get  func() (int, error)
		}{
			{"web-queue", func() (int, error) {
				page := reviewer.get("/ui/queue/rows")
				if page.status == http.StatusOK && !strings.Contains(page.body, "Pending 1–100") {
					return 0, fmt.Errorf("the queue's first page does not hold 100 rows")
				}
				return page.status, nil
			}},
			{"api-value", get("/v1/reviews?order=value")},
			{"api-due", get("/v1/reviews?order=due")},
			{"api-created", get("/v1/reviews")},
		}
		p99 := map[string][]time.Duration{}
		filled := 3 // the fixture's own pending reviews
		for _, size := range []int{1_000, 10_000, 100_000} {
			start := time.Now()
			fillReviews(b, f, r, filled, size)
			filled = size
			b.Logf("%d pending reviews (filled in %s)", size, time.Since(start).Round(time.Second))
			for _, e := range endpoints {
				lat := make([]time.Duration, 0, 300)
				for range 300 {
					t0 := time.Now()
					status, err := e.get()
					if err != nil || status != http.StatusOK {
						b.Fatalf("%s at %d: %d, %v", e.name, size, status, err)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				p50, p := lat[len(lat)/2], lat[len(lat)*99/100]
				p99[e.name] = append(p99[e.name], p)
				b.Logf("  %-12s p50 %6.2f ms  p99 %6.2f ms", e.name, ms(p50), ms(p))
				// As metrics too: a benchmark's log is cut to its first
				// lines, and the 100,000 rows come last.
				b.ReportMetric(ms(p50), fmt.Sprintf("%s-p50-ms-%dk", e.name, size/1000))
				b.ReportMetric(ms(p), fmt.Sprintf("%s-p99-ms-%dk", e.name, size/1000))
			}
		}
		for _, e := range endpoints {
			ps := p99[e.name]
			b.ReportMetric(float64(ps[2])/float64(ps[0]), e.name+"-p99-100k/1k")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// due is a synthetic review's due time: as in a queue that keeps up, one
// review in a hundred is overdue (by up to two days) and the rest fall due
// within two days, so the first page holds a few overdue reviews and is
// filled from the rest by rank (store.ValuePage), the part of the value
// order a queue reads nearly always. (Half overdue, as these rows were
// drawn before, filled every first page from the overdue part alone and
// hid a sort of every review not yet due on SQLite.)
func due(now time.Time, r *rand.Rand) time.Time {
	if r.IntN(100) == 0 {
		return now.Add(-time.Duration(1+r.IntN(48*60)) * time.Minute)
	}
	return now.Add(time.Duration(1+r.IntN(48*60)) * time.Minute)
}

// fillReviews adds pending reviews, each with its document, until there
// are want of them (from have).
func fillReviews(b *testing.B, f *fixture, r *rand.Rand, have, want int) {
	ctx := context.Background()
	for i := have; i < want; i++ {
		id := fmt.Sprintf("%032x", i)
		taskType := "contract-review"
		if i%3 == 0 {
			taskType = "pii-extraction"
		}
		doc := &countersign.Document{ID: id, TaskType: taskType, TaskTypeVersion: f.version, Content: "synthetic document " + id, ContentSHA256: id,
			Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: f.now.Add(time.Duration(i-want) * time.Second)}
		if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
			b.Fatal(err)
		}
		rv := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: taskType, Kind: countersign.ReviewGate, CreatedAt: doc.CreatedAt,
			DueAt: due(f.now, r), Confidence: r.Float64(), Reasons: []string{"policy mode hitl: every document is reviewed by a person"}}
		if err := f.store.OpenReview(ctx, rv); err != nil {
			b.Fatal(err)
		}
	}
}
