package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/countersign/countersign"
)

// Metric names as Prometheus shows them; OTLP carries the instrument names,
// the same without the _total and unit suffixes.
const (
	MetricDocumentsReceived   = "countersign_documents_received_total"
	MetricDocumentsFinalized  = "countersign_documents_finalized_total"
	MetricRoutes              = "countersign_routes_total"
	MetricDecisionLatency     = "countersign_decision_latency_seconds"
	MetricFieldsReviewed      = "countersign_fields_reviewed_total"
	MetricFieldsCorrected     = "countersign_fields_corrected_total"
	MetricReviewsPending      = "countersign_reviews_pending"
	MetricOldestPendingReview = "countersign_reviews_oldest_pending_age_seconds"
	MetricLLMTokens           = "countersign_llm_tokens_total"
	MetricLLMErrors           = "countersign_llm_errors_total"
	MetricLLMDuration         = "countersign_llm_duration_seconds"
)

// Metrics are countersign's own instruments, recorded where the events
// happen: the activities and the model calls. A nil *Metrics records
// nothing, so code and tests that do not configure telemetry run as before.
type Metrics struct {
	received        metric.Int64Counter
	finalized       metric.Int64Counter
	routes          metric.Int64Counter
	decisionLatency metric.Float64Histogram
	fieldsReviewed  metric.Int64Counter
	fieldsCorrected metric.Int64Counter
	llmTokens       metric.Int64Counter
	llmErrors       metric.Int64Counter
	llmDuration     metric.Float64Histogram
}

// Human decisions take from seconds to days; model calls from a fraction of
// a second to minutes. The default buckets fit neither.
var (
	decisionBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800}
	llmBuckets      = []float64{0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300}
)

// NewMetrics makes the instruments on mp.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	meter := mp.Meter(Scope)
	m := &Metrics{}
	var errs [9]error
	m.received, errs[0] = meter.Int64Counter("countersign_documents_received",
		metric.WithDescription("Documents received for review, by task type."))
	m.finalized, errs[1] = meter.Int64Counter("countersign_documents_finalized",
		metric.WithDescription("Documents that reached a final status (accepted, rejected, failed), by task type, status and route outcome."))
	m.routes, errs[2] = meter.Int64Counter("countersign_routes",
		metric.WithDescription("Routing decisions by task type and outcome (auto_accept, auto_accept_with_audit, human_review, reject): the auto-accept rate is the auto_accept* share."))
	m.decisionLatency, errs[3] = meter.Float64Histogram("countersign_decision_latency", metric.WithUnit("s"),
		metric.WithDescription("Time from a review's opening to its decision, by task type, review kind and action."),
		metric.WithExplicitBucketBoundaries(decisionBuckets...))
	m.fieldsReviewed, errs[4] = meter.Int64Counter("countersign_fields_reviewed",
		metric.WithDescription("Fields a person approved or corrected, by task type, field and review kind: the correction rate's denominator."))
	m.fieldsCorrected, errs[5] = meter.Int64Counter("countersign_fields_corrected",
		metric.WithDescription("Fields a person changed (corrected, added or removed), by task type, field, review kind and change."))
	m.llmTokens, errs[6] = meter.Int64Counter("countersign_llm_tokens",
		metric.WithDescription("Model tokens by model and kind (input, output)."))
	m.llmErrors, errs[7] = meter.Int64Counter("countersign_llm_errors",
		metric.WithDescription("Failed model calls and unusable answers by model and kind."))
	m.llmDuration, errs[8] = meter.Float64Histogram("countersign_llm_duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of chat completion calls by model."),
		metric.WithExplicitBucketBoundaries(llmBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return m, nil
}

// Attribute keys of countersign's metrics.
const (
	keyTaskType = attribute.Key("task_type")
	keyStatus   = attribute.Key("status")
	keyOutcome  = attribute.Key("outcome")
	keyKind     = attribute.Key("kind")
	keyAction   = attribute.Key("action")
	keyField    = attribute.Key("field")
	keyChange   = attribute.Key("change")
	keyModel    = attribute.Key("model")
)

// DocumentReceived counts a document received for review.
func (m *Metrics) DocumentReceived(ctx context.Context, taskType string) {
	if m == nil {
		return
	}
	m.received.Add(ctx, 1, metric.WithAttributes(keyTaskType.String(taskType)))
}

// DocumentFinalized counts a document that reached a final status; outcome
// is the route that led there, empty for a failed document.
func (m *Metrics) DocumentFinalized(ctx context.Context, taskType string, status countersign.Status, outcome countersign.Outcome) {
	if m == nil {
		return
	}
	m.finalized.Add(ctx, 1, metric.WithAttributes(keyTaskType.String(taskType), keyStatus.String(string(status)), keyOutcome.String(string(outcome))))
}

// Routed counts a routing decision.
func (m *Metrics) Routed(ctx context.Context, taskType string, outcome countersign.Outcome) {
	if m == nil {
		return
	}
	m.routes.Add(ctx, 1, metric.WithAttributes(keyTaskType.String(taskType), keyOutcome.String(string(outcome))))
}

// Decided records how long a review waited for its decision.
func (m *Metrics) Decided(ctx context.Context, taskType string, kind countersign.ReviewKind, action countersign.Action, waited time.Duration) {
	if m == nil {
		return
	}
	m.decisionLatency.Record(ctx, max(waited, 0).Seconds(), metric.WithAttributes(
		keyTaskType.String(taskType), keyKind.String(reviewKind(kind)), keyAction.String(string(action))))
}

// Reviewed counts the fields of a person's verdict: every field of diff as
// reviewed, and those that changed as corrected.
func (m *Metrics) Reviewed(ctx context.Context, taskType string, kind countersign.ReviewKind, diff []countersign.FieldChange) {
	if m == nil {
		return
	}
	for _, c := range diff {
		attrs := []attribute.KeyValue{keyTaskType.String(taskType), keyField.String(c.Field), keyKind.String(reviewKind(kind))}
		m.fieldsReviewed.Add(ctx, 1, metric.WithAttributes(attrs...))
		if c.Change != countersign.ChangeUnchanged {
			m.fieldsCorrected.Add(ctx, 1, metric.WithAttributes(append(attrs, keyChange.String(string(c.Change)))...))
		}
	}
}

// ModelCall records a chat completion that answered: its tokens and
// duration.
func (m *Metrics) ModelCall(ctx context.Context, model string, inputTokens, outputTokens int, took time.Duration) {
	if m == nil {
		return
	}
	m.llmTokens.Add(ctx, int64(inputTokens), metric.WithAttributes(keyModel.String(model), keyKind.String("input")))
	m.llmTokens.Add(ctx, int64(outputTokens), metric.WithAttributes(keyModel.String(model), keyKind.String("output")))
	m.llmDuration.Record(ctx, took.Seconds(), metric.WithAttributes(keyModel.String(model)))
}

// ModelError counts a failed model call or an unusable answer; kind says
// which (rate_limited, server_error, timeout, unreachable, unusable_answer,
// ...).
func (m *Metrics) ModelError(ctx context.Context, model, kind string) {
	if m == nil {
		return
	}
	m.llmErrors.Add(ctx, 1, metric.WithAttributes(keyModel.String(model), keyKind.String(kind)))
}

func reviewKind(k countersign.ReviewKind) string {
	if k == "" {
		return string(countersign.ReviewGate)
	}
	return string(k)
}
