package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/telemetry"
)

func setup(t *testing.T, opts telemetry.Options) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// TestTracesOffByDefault: with no OTEL_TRACES_EXPORTER nothing is exported
// and nothing recorded, but spans still carry trace IDs, which the audit log
// records and which continue a caller's trace.
func TestTracesOffByDefault(t *testing.T) {
	t.Setenv(telemetry.EnvTracesExporter, "")
	t.Setenv(telemetry.EnvMetricsExporter, "")
	tel := setup(t, telemetry.Options{})
	if tel.TracesExporter != telemetry.ExporterNone || tel.MetricsExporters != "" {
		t.Errorf("exporters %q and %q, want none", tel.TracesExporter, tel.MetricsExporters)
	}
	_, span := tel.Tracer().Start(context.Background(), "x")
	defer span.End()
	if sc := span.SpanContext(); !sc.HasTraceID() || sc.IsSampled() || span.IsRecording() {
		t.Errorf("span context %+v, recording %v; want a trace ID and nothing recorded", sc, span.IsRecording())
	}
}

// TestExportersFromEnvironment: the OTEL_* variables choose the exporters,
// and a name countersign does not know stops it rather than being ignored.
func TestExportersFromEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SERVICE_NAME", "countersign-test")
	for _, tc := range []struct {
		traces, metrics, protocol string
		wantTraces, wantMetrics   string
		wantErr                   string
	}{
		{traces: "otlp", metrics: "otlp", wantTraces: "otlp (http/protobuf)", wantMetrics: "otlp (http/protobuf)"},
		{traces: "otlp,console", metrics: "prometheus", protocol: "grpc", wantTraces: "otlp (grpc), console"},
		{traces: "none", metrics: "none", wantTraces: "none"},
		{traces: "jaeger", wantErr: `OTEL_TRACES_EXPORTER="jaeger"`},
		{metrics: "statsd", wantErr: `OTEL_METRICS_EXPORTER="statsd"`},
		{traces: "otlp", protocol: "http/json", wantErr: "http/json"},
	} {
		t.Setenv(telemetry.EnvTracesExporter, tc.traces)
		t.Setenv(telemetry.EnvMetricsExporter, tc.metrics)
		t.Setenv(telemetry.EnvProtocol, tc.protocol)
		tel, err := telemetry.Setup(context.Background(), telemetry.Options{})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err = %v, want one naming %s", tc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if tel.TracesExporter != tc.wantTraces || tel.MetricsExporters != tc.wantMetrics {
			t.Errorf("%+v: exporters %q and %q", tc, tel.TracesExporter, tel.MetricsExporters)
		}
		body := get(t, tel.MetricsHandler(), "/metrics")
		if !strings.Contains(body, `service_name="countersign-test"`) {
			t.Errorf("%+v: /metrics does not name the service from OTEL_SERVICE_NAME", tc)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = tel.Shutdown(ctx) // nothing listens on the endpoint
		cancel()
	}
}

// TestHTTPSpans: a request's span is named by its route pattern, not its
// path, continues the caller's trace, and probes and scrapes make none.
func TestHTTPSpans(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{SpanExporter: spans})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	handler := tel.HTTP(mux, func(r *http.Request) string { _, p := mux.Handler(r); return p })

	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	req := httptest.NewRequest(http.MethodGet, "/v1/things/secret-id-42", nil)
	req.Header.Set("traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
	handler.ServeHTTP(httptest.NewRecorder(), req)
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))

	got := spans.GetSpans()
	if len(got) != 2 {
		t.Fatalf("%d spans, want the routed request's and the unrouted one's", len(got))
	}
	s := got[0]
	if s.Name != "GET /v1/things/{id}" || s.SpanKind != trace.SpanKindServer || s.SpanContext.TraceID().String() != caller {
		t.Errorf("span %q kind %v trace %s; want the route's name, server, the caller's trace", s.Name, s.SpanKind, s.SpanContext.TraceID())
	}
	route := ""
	for _, kv := range s.Attributes {
		if kv.Key == "http.route" {
			route = kv.Value.AsString()
		}
	}
	if route != "/v1/things/{id}" {
		t.Errorf("http.route = %q", route)
	}
	if got[1].Name != "GET" {
		t.Errorf("unrouted request's span is %q, want just the method", got[1].Name)
	}
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func document(id string) *countersign.Document {
	return &countersign.Document{
		ID: id, TaskType: "claims", TaskTypeVersion: "v1", Content: "Claimant Jane Roe, policy 7781",
		ContentSHA256: countersign.ContentSHA256("Claimant Jane Roe, policy 7781" + id), Status: countersign.StatusProcessing,
		SubmittedBy: "sam", CreatedAt: time.Now(),
	}
}

// TestTraceStore: each store call is a client span named after its method,
// with the database system, an absent document is not a failure, and
// neither the arguments nor the results appear.
func TestTraceStore(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{SpanExporter: spans})
	s := tel.TraceStore(openStore(t), telemetry.DBSQLite)
	ctx := context.Background()
	if _, _, err := s.CreateDocument(ctx, document("doc-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDocument(ctx, "doc-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDocument(ctx, "nope"); err == nil {
		t.Fatal("want not found")
	}
	got := spans.GetSpans()
	if len(got) != 3 {
		t.Fatalf("%d spans, want 3", len(got))
	}
	var attrs map[string]string
	for i, want := range []string{"store.CreateDocument", "store.GetDocument", "store.GetDocument"} {
		s := got[i]
		attrs = map[string]string{}
		for _, kv := range s.Attributes {
			attrs[string(kv.Key)] = kv.Value.Emit()
			if v := kv.Value.Emit(); strings.Contains(v, "Jane") || strings.Contains(v, "doc-1") {
				t.Errorf("span %s carries %s=%s", s.Name, kv.Key, v)
			}
		}
		if s.Name != want || s.SpanKind != trace.SpanKindClient || attrs["db.system.name"] != "sqlite" || s.Status.Code.String() == "Error" {
			t.Errorf("span %d: %q kind %v attributes %v status %v", i, s.Name, s.SpanKind, attrs, s.Status)
		}
	}
	if attrs["error.type"] != string(countersign.CodeNotFound) {
		t.Errorf("the miss's span has attributes %v, want error.type %s", attrs, countersign.CodeNotFound)
	}
}

// TestQueueGauges: pending reviews are counted by task type and kind, the
// oldest one's age is reported, closed reviews do not count, and a known
// task type with nothing pending reports 0.
func TestQueueGauges(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	open := func(doc string, n int, kind countersign.ReviewKind, age time.Duration) {
		t.Helper()
		if _, _, err := store.CreateDocument(ctx, document(doc)); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: countersign.ReviewID(doc, n), DocumentID: doc, TaskType: "claims", Kind: kind,
			CreatedAt: now.Add(-age), DueAt: now.Add(time.Hour), Reasons: []string{"r"}}
		if err := store.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	open("a", 1, countersign.ReviewGate, 90*time.Minute)
	open("b", 1, countersign.ReviewGate, 10*time.Minute)
	open("c", 1, countersign.ReviewAudit, 5*time.Minute)
	open("d", 1, countersign.ReviewGate, 3*time.Hour)
	if err := store.CloseReviews(ctx, "d", now, "system"); err != nil {
		t.Fatal(err)
	}

	reader := sdkmetric.NewManualReader()
	if _, err := telemetry.ObserveQueue(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), store, []string{"claims", "contracts"}, func() time.Time { return now }); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch data := m.Data.(type) {
		case metricdata.Gauge[int64]:
			for _, dp := range data.DataPoints {
				got[m.Name+"/"+label(dp.Attributes, "task_type")+"/"+label(dp.Attributes, "kind")] = float64(dp.Value)
			}
		case metricdata.Gauge[float64]:
			for _, dp := range data.DataPoints {
				got[m.Name+"/"+label(dp.Attributes, "task_type")+"/"+label(dp.Attributes, "kind")] = dp.Value
			}
		}
	}
	for key, want := range map[string]float64{
		"countersign_reviews_pending/claims/review":               2,
		"countersign_reviews_pending/claims/audit":                1,
		"countersign_reviews_pending/contracts/review":            0,
		"countersign_reviews_oldest_pending_age/claims/review":    5400,
		"countersign_reviews_oldest_pending_age/claims/audit":     300,
		"countersign_reviews_oldest_pending_age/contracts/review": 0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
}

func label(set attribute.Set, key string) string {
	v, _ := set.Value(attribute.Key(key))
	return v.Emit()
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// TestClientSpans: a call to another service is a client span in the
// caller's trace, named by the service and method, without the body, and
// without sending our trace context to that service.
func TestClientSpans(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{SpanExporter: spans})
	var sentTraceparent string
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sentTraceparent = r.Header.Get("traceparent")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer slack.Close()

	ctx, parent := tel.TracerProvider.Tracer("test").Start(context.Background(), "Notify")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, slack.URL+"/api/chat.postMessage", strings.NewReader("text=Claimant+Jane+Roe"))
	resp, err := tel.Client("slack").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	got := spans.GetSpans()
	if len(got) != 2 {
		t.Fatalf("%d spans, want the call's and its parent's", len(got))
	}
	s := got[0]
	if s.Name != "slack chat.postMessage" || s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q kind %v parent %s; want slack chat.postMessage, client, under Notify", s.Name, s.SpanKind, s.Parent.SpanID())
	}
	for _, kv := range s.Attributes {
		if strings.Contains(kv.Value.Emit(), "Jane") {
			t.Errorf("attribute %s carries the body: %s", kv.Key, kv.Value.Emit())
		}
	}
	if sentTraceparent != "" {
		t.Errorf("traceparent %q was sent to the other service", sentTraceparent)
	}
}
