package api

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/countersign/countersign"
)

// Limits on input, unless Services configures others. A body past
// MaxBodyBytes is refused with 413 and a document past the dispatcher's
// MaxDocumentBytes with 413; so is a decision, veto or policy reset whose
// reason is over MaxReasonBytes, or a decision or veto with a field value
// over MaxFieldValueBytes (as JSON) or with fields and reason together over
// countersign.MaxDecisionBytes: sizes are 413. A decision or veto with more
// fields than MaxFields, or a submission with more metadata keys than
// MaxMetadataKeys, is refused with 422: counts are 422. A token past its
// rate gets 429 and Retry-After.
const (
	DefaultMaxFields          = 200
	DefaultMaxMetadataKeys    = 200
	DefaultMaxReasonBytes     = 4 << 10
	DefaultMaxFieldValueBytes = 16 << 10
	DefaultRateLimit          = 50.0
	DefaultRateBurst          = 100
)

// NoRateLimit, as Services.RateLimit, turns the per-token rate limit off.
const NoRateLimit = -1

// parseSubmit reads the body of POST /v1/documents: 400 when it is not a
// submission, 422 when it has more than maxKeys metadata keys. The content
// is checked by dispatch.Dispatcher.Submit, which knows the document size
// limit.
func parseSubmit(body io.Reader, maxKeys int) (SubmitRequest, error) {
	var req SubmitRequest
	if err := decodeJSON(body, &req); err != nil {
		return SubmitRequest{}, err
	}
	if len(req.Metadata) > maxKeys {
		return SubmitRequest{}, countersign.Errorf(countersign.CodeInvalid, "metadata has %d keys; the limit is %d", len(req.Metadata), maxKeys)
	}
	return req, nil
}

// parseDecision reads the body of POST /v1/reviews/{id}/decision: 400 when
// it is not a decision, 422 or 413 when it is over the limits. The action
// and the fields themselves are the workflow validator's to judge.
func parseDecision(body io.Reader, limits inputLimits) (DecisionRequest, error) {
	var req DecisionRequest
	if err := decodeJSON(body, &req); err != nil {
		return DecisionRequest{}, err
	}
	if err := limits.check(req.Fields, req.Reason); err != nil {
		return DecisionRequest{}, err
	}
	return req, nil
}

// inputLimits are the API's limits on what a person sends with a decision,
// a veto or a policy reset. They refuse, before Temporal is asked, what the
// workflow's validator would refuse as too large, and what Temporal itself
// would have failed on with a 500 after holding the review.
type inputLimits struct {
	fields int
	sizes  countersign.DecisionLimits
}

// inputLimits are the limits Services configures, held to the ceilings.
func (h *handlers) inputLimits() inputLimits {
	return inputLimits{fields: h.MaxFields, sizes: countersign.DecisionLimits{
		ReasonBytes:     min(h.MaxReasonBytes, countersign.MaxReasonBytes),
		FieldValueBytes: min(h.MaxFieldValueBytes, countersign.MaxFieldValueBytes),
	}}
}

// check refuses a decision or veto with more fields than the limit (422), or
// whose reason or field values are too large (413).
func (l inputLimits) check(fields countersign.Fields, reason string) error {
	if len(fields) > l.fields {
		return countersign.Errorf(countersign.CodeInvalid, "the request has %d fields; the limit is %d", len(fields), l.fields)
	}
	return l.sizes.Check(fields, reason)
}

// rateLimiter keeps a token bucket per API token. Each API process keeps
// its own, so n replicas let a token through at up to n times the rate.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	// sweepAt is the number of buckets at which idle ones are dropped.
	sweepAt int
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// minSweep is the fewest buckets worth sweeping.
const minSweep = 1024

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}, sweepAt: minSweep}
}

// take takes one request from key's bucket at now. It returns 0 when the
// request may go ahead, else how long until it could (and takes nothing).
func (l *rateLimiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{limiter: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	l.mu.Unlock()
	r := b.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return delay
	}
	return 0
}

// sweep drops the buckets idle long enough to have filled up again: a full
// bucket is what a new one would be, so nothing is forgotten. The caller
// holds mu.
func (l *rateLimiter) sweep(now time.Time) {
	refill := float64(l.burst) / float64(l.limit) // seconds
	for key, b := range l.buckets {
		if now.Sub(b.seen).Seconds() >= refill {
			delete(l.buckets, key)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}

// rateLimited answers 429 with Retry-After, in whole seconds, when the
// token has used up its bucket, and reports whether it did.
func (h *handlers) rateLimited(w http.ResponseWriter, r *http.Request, c caller) bool {
	if h.limiter == nil {
		return false
	}
	delay := h.limiter.take(c.key, h.Now())
	if delay == 0 {
		return false
	}
	seconds := int(math.Ceil(delay.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	h.fail(w, r, countersign.Errorf(countersign.CodeRateLimited, "too many requests: %s may make %g requests per second, in bursts of up to %d; retry in %d s",
		c.name, h.RateLimit, h.RateBurst, seconds))
	return true
}
