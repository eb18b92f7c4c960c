// Package telemetry is countersign's OpenTelemetry: a tracer provider and a
// meter provider set up from the standard OTEL_* environment variables, the
// Prometheus handler behind GET /metrics, countersign's own instruments
// (Metrics), and the pieces that carry one trace across a request: the HTTP
// middleware, Temporal's tracing interceptor and a tracing Store.
//
// Trace IDs are always made and propagated, so every audit event names the
// trace of the request that caused it; spans leave the process only when
// OTEL_TRACES_EXPORTER names an exporter. /metrics is always served.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Scope is the instrumentation scope of countersign's own spans and
// instruments.
const Scope = "github.com/countersign/countersign"

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise.
const DefaultServiceName = "countersign"

// Telemetry is one process's OpenTelemetry. Make it with Setup, hand its
// parts to the roles, and Shutdown it last, which flushes what is buffered.
type Telemetry struct {
	// TracerProvider makes every span countersign starts.
	TracerProvider trace.TracerProvider
	// MeterProvider makes every instrument; its readers are the Prometheus
	// handler and, when configured, OTLP or the console.
	MeterProvider metric.MeterProvider
	// Propagator carries trace context (W3C traceparent and baggage) over
	// HTTP and through Temporal headers.
	Propagator propagation.TextMapPropagator
	// Metrics are countersign's own instruments.
	Metrics *Metrics
	// Temporal is the tracing interceptor for Temporal clients; workers
	// made from such a client use it too.
	Temporal interceptor.Interceptor
	// TracesExporter says where spans go ("none" when nowhere), and
	// MetricsExporters where metrics are pushed besides the Prometheus
	// handler ("" when nowhere), for the startup banner.
	TracesExporter   string
	MetricsExporters string

	prometheus http.Handler
	shutdown   []func(context.Context) error
}

// Options say how Setup builds telemetry beyond the environment.
type Options struct {
	// SpanExporter, when set, receives every span as it ends, whatever
	// OTEL_TRACES_EXPORTER says. Tests pass an in-memory exporter.
	SpanExporter sdktrace.SpanExporter
}

// Setup builds telemetry from the OTEL_* environment: OTEL_TRACES_EXPORTER
// (none, the default; otlp; console), OTEL_METRICS_EXPORTER (otlp and console
// add to the Prometheus handler that is always there), the OTLP endpoint,
// protocol and header variables, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
// and OTEL_TRACES_SAMPLER. An unknown exporter is an error.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	t := &Telemetry{Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	if err := t.setup(ctx, opts); err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	return t, nil
}

func (t *Telemetry) setup(ctx context.Context, opts Options) error {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", DefaultServiceName)),
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return fmt.Errorf("telemetry resource: %w", err)
	}
	if err := t.setupTraces(ctx, res, opts.SpanExporter); err != nil {
		return err
	}
	if err := t.setupMetrics(ctx, res); err != nil {
		return err
	}
	t.Temporal, err = temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.TracerProvider.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: t.Propagator,
	})
	if err != nil {
		return fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return nil
}

func (t *Telemetry) setupTraces(ctx context.Context, res *resource.Resource, extra sdktrace.SpanExporter) error {
	exporters, names, err := spanExporters(ctx)
	if err != nil {
		return err
	}
	t.TracesExporter = names
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, exp := range exporters {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	if extra != nil {
		opts = append(opts, sdktrace.WithSyncer(extra))
	}
	if len(exporters) == 0 && extra == nil {
		// Nothing would receive a span: make none, but keep minting and
		// propagating trace IDs, which the audit log records.
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.TracerProvider = tp
	t.shutdown = append(t.shutdown, tp.Shutdown)
	return nil
}

func (t *Telemetry) setupMetrics(ctx context.Context, res *resource.Resource) error {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	prom, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return fmt.Errorf("prometheus exporter: %w", err)
	}
	t.prometheus = promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
	readers, names, err := metricReaders(ctx)
	if err != nil {
		return err
	}
	t.MetricsExporters = names
	opts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(prom)}
	for _, r := range readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	t.MeterProvider = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)
	t.Metrics, err = NewMetrics(mp)
	return err
}

// MetricsHandler serves the metrics in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler { return t.prometheus }

// Tracer is countersign's tracer. A nil Telemetry traces nothing.
func (t *Telemetry) Tracer() trace.Tracer {
	return t.tracerProvider().Tracer(Scope)
}

func (t *Telemetry) tracerProvider() trace.TracerProvider {
	if t == nil || t.TracerProvider == nil {
		return noop.NewTracerProvider()
	}
	return t.TracerProvider
}

// ClientInterceptors are the interceptors to put in a Temporal client's
// options; none for a nil Telemetry.
func (t *Telemetry) ClientInterceptors() []interceptor.ClientInterceptor {
	if t == nil || t.Temporal == nil {
		return nil
	}
	return []interceptor.ClientInterceptor{t.Temporal}
}

// Shutdown flushes buffered spans and metrics to their exporters and stops
// them. Call it once the roles have stopped.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, stop := range t.shutdown {
		errs = append(errs, stop(ctx))
	}
	t.shutdown = nil
	return errors.Join(errs...)
}
