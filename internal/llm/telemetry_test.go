package llm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/telemetry"
)

// observed is an extractor whose spans and metrics a test reads.
type observed struct {
	extractor *llm.OpenAI
	spans     *tracetest.InMemoryExporter
	metrics   *sdkmetric.ManualReader
}

func newObserved(t *testing.T, srv *llmtest.Server) observed {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	reader := sdkmetric.NewManualReader()
	metrics, err := telemetry.NewMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	return observed{
		extractor: llm.NewOpenAI(llm.OpenAIConfig{
			BaseURL:        srv.BaseURL(),
			APIKey:         "sk-test",
			TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)),
			Metrics:        metrics,
		}),
		spans:   spans,
		metrics: reader,
	}
}

func (o observed) extract(t *testing.T, tt *countersign.TaskType) (*countersign.Draft, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return o.extractor.Extract(ctx, tt, &countersign.Document{ID: "d1", Content: invoice})
}

// counter sums the data points of a counter whose attributes include want.
func (o observed) counter(t *testing.T, name string, want map[string]string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := o.metrics.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				if hasAttributes(dp.Attributes, want) {
					total += dp.Value
				}
			}
		}
	}
	return total
}

func hasAttributes(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.Emit() != v {
			return false
		}
	}
	return true
}

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// TestChatSpans: every chat completion (the answer, its repair, the judge)
// is a client span with the GenAI attributes and the endpoint's token
// usage, the tokens and the unusable answer are counted by model, and
// nothing of the document, the prompt or the answers is in any span.
func TestChatSpans(t *testing.T) {
	srv := llmtest.New(t)
	srv.Enqueue(
		llmtest.Answer(`{"vendor": {"value": "Acme`),
		llmtest.Answer(goodAnswer()),
		llmtest.Answer(`{"vendor": "right", "total": "right", "due_date": "right"}`),
	)
	o := newObserved(t, srv)
	tt := invoiceType(t, 1, 0)
	tt.Model.Judge = true
	draft, err := o.extract(t, tt)
	if err != nil {
		t.Fatal(err)
	}
	spans := o.spans.GetSpans().Snapshots()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want one per chat completion (answer, repair, judge)", len(spans))
	}
	var input, output int64
	for _, s := range spans {
		a := attrs(s)
		if s.Name() != "chat test-model" || s.SpanKind() != trace.SpanKindClient || s.Status().Code == codes.Error {
			t.Errorf("span %q kind %v status %v", s.Name(), s.SpanKind(), s.Status())
		}
		for key, want := range map[string]string{
			"gen_ai.operation.name": "chat",
			"gen_ai.system":         "openai",
			"gen_ai.request.model":  "test-model",
			"gen_ai.response.model": "test-model",
			"server.address":        "127.0.0.1",
		} {
			if got := a[key].Emit(); got != want {
				t.Errorf("span %s: %s = %q, want %q", s.SpanContext().SpanID(), key, got, want)
			}
		}
		in, out := a["gen_ai.usage.input_tokens"].AsInt64(), a["gen_ai.usage.output_tokens"].AsInt64()
		if in <= 0 || out <= 0 {
			t.Errorf("span %s: usage %d in, %d out; want the endpoint's counts", s.SpanContext().SpanID(), in, out)
		}
		if !s.EndTime().After(s.StartTime()) {
			t.Errorf("span %s has no duration", s.SpanContext().SpanID())
		}
		input, output = input+in, output+out
	}
	if input != int64(draft.Usage.PromptTokens) || output != int64(draft.Usage.CompletionTokens) {
		t.Errorf("spans count %d input and %d output tokens, the draft %+v", input, output, draft.Usage)
	}
	if got := o.counter(t, telemetryName(telemetry.MetricLLMTokens), map[string]string{"model": "test-model", "kind": "input"}); got != input {
		t.Errorf("input token counter = %d, want %d", got, input)
	}
	if got := o.counter(t, telemetryName(telemetry.MetricLLMTokens), map[string]string{"model": "test-model", "kind": "output"}); got != output {
		t.Errorf("output token counter = %d, want %d", got, output)
	}
	if got := o.counter(t, telemetryName(telemetry.MetricLLMErrors), map[string]string{"model": "test-model", "kind": "unusable_answer"}); got != 1 {
		t.Errorf("unusable answers counted %d, want 1", got)
	}
	assertNoText(t, spans, "Acme", "INVOICE", "1250", "2025-07-01", "Extract the vendor", "vendor")
}

// TestChatSpanOfAFailedCall: a refused call's span says what kind of
// failure it was, not what the endpoint said, and the error is counted.
func TestChatSpanOfAFailedCall(t *testing.T) {
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "3"})
	o := newObserved(t, srv)
	if _, err := o.extract(t, invoiceType(t, 1, 0)); err == nil {
		t.Fatal("want the 429 as an error")
	}
	spans := o.spans.GetSpans().Snapshots()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if got := attrs(s)["error.type"].Emit(); got != "rate_limited" || s.Status().Code != codes.Error || s.Status().Description != "rate_limited" {
		t.Errorf("error.type %q, status %v; want rate_limited, an error", got, s.Status())
	}
	if got := o.counter(t, telemetryName(telemetry.MetricLLMErrors), map[string]string{"model": "test-model", "kind": "rate_limited"}); got != 1 {
		t.Errorf("rate-limited calls counted %d, want 1", got)
	}
	assertNoText(t, spans, "Acme", "INVOICE", "Too Many Requests")
}

// telemetryName is the instrument name behind a Prometheus metric name.
func telemetryName(prometheus string) string {
	return strings.TrimSuffix(strings.TrimSuffix(prometheus, "_total"), "_seconds")
}

// assertNoText fails if any span's name, attributes, events or status
// contain one of texts.
func assertNoText(t *testing.T, spans []sdktrace.ReadOnlySpan, texts ...string) {
	t.Helper()
	for _, s := range spans {
		seen := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			seen = append(seen, fmt.Sprintf("%s=%s", kv.Key, kv.Value.Emit()))
		}
		for _, e := range s.Events() {
			seen = append(seen, e.Name)
			for _, kv := range e.Attributes {
				seen = append(seen, fmt.Sprintf("%s=%s", kv.Key, kv.Value.Emit()))
			}
		}
		for _, text := range texts {
			for _, v := range seen {
				if strings.Contains(v, text) {
					t.Errorf("span %q carries %q: %s", s.Name(), text, v)
				}
			}
		}
	}
}
