package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/telemetry"
)

// TestDecisionTrace: a decision made over HTTP is one trace, from the
// request's server span through the Temporal update to the activity that
// records it and its store calls, every span's parent in the trace; and the
// decision's audit event names that trace. The submission is a trace of its
// own, which the receipt's audit event names.
func TestDecisionTrace(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{SpanExporter: spans})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the App stops before its telemetry.
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	a := startWithOptions(t, app.Roles{Embedded: true, Worker: true, API: true}, app.WithTelemetry(tel))
	u := newUsers(t, a)
	ctx := context.Background()

	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, u.reviewer, sub.ID)
	if _, err := u.reviewer.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}

	decision := serverSpan(t, spans, "POST /v1/reviews/{id}/decision")
	trail, err := u.reviewer.Audit(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	recorded := event(t, trail, countersign.EventDecisionRecorded)
	if recorded.TraceID != decision.TraceID().String() {
		t.Errorf("decision.recorded has trace_id %q, want the decision request's trace %s", recorded.TraceID, decision.TraceID())
	}

	inTrace := map[trace.SpanID]tracetest.SpanStub{}
	names := map[string]bool{}
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() == decision.TraceID() {
			inTrace[s.SpanContext.SpanID()] = s
			names[s.Name] = true
		}
	}
	for _, want := range []string{
		"POST /v1/reviews/{id}/decision",
		"store.GetReview",
		"UpdateWorkflow:decision",
		"ValidateUpdate:decision",
		"HandleUpdate:decision",
		"StartActivity:RecordDecision",
		"RunActivity:RecordDecision",
		"store.RecordDecision",
		"store.AppendAudit",
	} {
		if !names[want] {
			t.Errorf("no span %q in the decision's trace; it has %v", want, keys(names))
		}
	}
	for _, s := range inTrace {
		if s.SpanContext.SpanID() == decision.SpanID() {
			if s.Parent.IsValid() {
				t.Errorf("the request's span has a parent, %s", s.Parent.SpanID())
			}
			continue
		}
		if _, ok := inTrace[s.Parent.SpanID()]; !ok {
			t.Errorf("span %q hangs from %s, which is not in the trace", s.Name, s.Parent.SpanID())
		}
	}

	submit := serverSpan(t, spans, "POST /v1/documents")
	if received := event(t, trail, countersign.EventDocumentReceived); received.TraceID != submit.TraceID().String() {
		t.Errorf("document.received has trace_id %q, want the submission's trace %s", received.TraceID, submit.TraceID())
	}
}

// TestMetrics: after one document accepted on its own and one corrected by
// a person, /metrics (no token needed) shows the routes, final statuses,
// the decision's latency, the corrected field and the review queue.
func TestMetrics(t *testing.T) {
	a := startWithOptions(t, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()

	pii, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if doc, err := u.submitter.WaitFinal(waitCtx, pii.ID, 100*time.Millisecond); err != nil || doc.Route.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("PII document = %+v, %v; want it auto-accepted", doc, err)
	}
	review := submitAndWait(t, u, "contract-review", "msa-northwind-harbor.txt")

	before := scrape(t, a.APIURL)
	before.want(t, telemetry.MetricReviewsPending, 1, "task_type", "contract-review", "kind", "review")
	before.want(t, telemetry.MetricReviewsPending, 0, "task_type", "pii-extraction", "kind", "review")
	if age, ok := before.value(telemetry.MetricOldestPendingReview, "task_type", "contract-review", "kind", "review"); !ok || age < 0 || age > 120 {
		t.Errorf("oldest pending review is %v s old (found %v), want the age of the one just opened", age, ok)
	}

	correction := api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 24}}
	if _, err := u.reviewer.Decide(ctx, review.ID, correction); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, a.APIURL)
	after.want(t, telemetry.MetricDocumentsReceived, 1, "task_type", "pii-extraction")
	after.want(t, telemetry.MetricRoutes, 1, "task_type", "pii-extraction", "outcome", "auto_accept")
	after.want(t, telemetry.MetricRoutes, 1, "task_type", "contract-review", "outcome", "human_review")
	after.want(t, telemetry.MetricDocumentsFinalized, 1, "task_type", "pii-extraction", "status", "accepted", "outcome", "auto_accept")
	after.want(t, telemetry.MetricDocumentsFinalized, 1, "task_type", "contract-review", "status", "accepted", "outcome", "human_review")
	after.want(t, telemetry.MetricDecisionLatency, 1, "task_type", "contract-review", "kind", "review", "action", "correct")
	after.want(t, telemetry.MetricFieldsCorrected, 1, "task_type", "contract-review", "field", "term_months", "kind", "review")
	after.want(t, telemetry.MetricFieldsReviewed, 1, "task_type", "contract-review", "field", "party_a", "kind", "review")
	after.want(t, telemetry.MetricFieldsCorrected, 0, "task_type", "contract-review", "field", "party_a")
	after.want(t, telemetry.MetricReviewsPending, 0, "task_type", "contract-review", "kind", "review")
	after.want(t, "http_server_request_duration_seconds", 1, "http_route", "/v1/reviews/{id}/decision", "http_request_method", "POST")
	if _, ok := after.value(telemetry.MetricRoutes, "task_type", "pii-extraction", "outcome", "human_review"); ok {
		t.Errorf("a route counted that no document took")
	}
}

// TestTracesExportedOverOTLP: with the standard variables naming an OTLP
// collector over HTTP (which the embedded Temporal server would refuse for
// its own spans), `dev` starts, and stopping it flushes the submission's
// spans to the collector.
func TestTracesExportedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	names := map[string]bool{}
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names[s.GetName()] = true
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Namespace: "default"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.Start(ctx, cfg, app.Roles{Embedded: true, Worker: true, API: true}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			a.Stop()
		}
	}()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	submitter := apiclient.New(a.APIURL, a.AdminToken)
	sub, err := submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := submitter.WaitFinal(ctx, sub.ID, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	a.Stop()
	stopped = true
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"POST /v1/documents", "StartWorkflow:ReviewWorkflow", "RunActivity:Extract", "RunActivity:Finalize", "store.AppendAudit"} {
		if !names[want] {
			t.Errorf("the collector did not get %q; it got %v", want, keys(names))
		}
	}
}

func startWithOptions(t *testing.T, roles app.Roles, opts ...app.Option) *app.App {
	t.Helper()
	cfg := config.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Namespace: "default"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.Start(ctx, cfg, roles, quietLogger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

// serverSpan waits for the span of the request named name to end (the
// server ends it after the answer is on its way) and returns its context.
func serverSpan(t *testing.T, spans *tracetest.InMemoryExporter, name string) trace.SpanContext {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range spans.GetSpans() {
			if s.Name == name && s.SpanKind == trace.SpanKindServer {
				return s.SpanContext
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server span %q", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func event(t *testing.T, events []countersign.AuditEvent, typ string) countersign.AuditEvent {
	t.Helper()
	for _, e := range events {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no %s event in the trail", typ)
	return countersign.AuditEvent{}
}

func keys(m map[string]bool) []string {
	var list []string
	for k := range m {
		list = append(list, k)
	}
	return list
}

// metrics is one scrape of /metrics.
type metrics map[string]*dto.MetricFamily

func scrape(t *testing.T, apiURL string) metrics {
	t.Helper()
	resp, err := http.Get(apiURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics without a token: %s", resp.Status)
	}
	var parser expfmt.TextParser
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value is the value of the series of name whose labels include labels
// (name, value pairs): a counter's or gauge's value, a histogram's count.
func (m metrics) value(name string, labels ...string) (float64, bool) {
	family, ok := m[name]
	if !ok {
		return 0, false
	}
series:
	for _, s := range family.GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// want checks a series' value; a want of 0 also passes when the series is
// absent.
func (m metrics) want(t *testing.T, name string, want float64, labels ...string) {
	t.Helper()
	got, ok := m.value(name, labels...)
	if got != want || (!ok && want != 0) {
		t.Errorf("%s{%s} = %v (present %v), want %v", name, pairs(labels), got, ok, want)
	}
}

func pairs(labels []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(labels); i += 2 {
		fmt.Fprintf(&b, "%s=%q,", labels[i], labels[i+1])
	}
	return strings.TrimSuffix(b.String(), ",")
}
