package telemetry

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// untraced are the paths probes and scrapers call every few seconds; their
// spans would drown the requests people make.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// HTTP traces the requests next serves: a server span per request, named by
// its route pattern (such as "POST /v1/reviews/{id}/decision") so that spans
// group by endpoint and carry no IDs, continuing the caller's trace when the
// request has a traceparent header. route tells the pattern of a request
// ("" when none matches); http.Server metrics carry it too. A nil Telemetry
// returns next as it is.
func (t *Telemetry) HTTP(next http.Handler, route func(*http.Request) string) http.Handler {
	if t == nil {
		return next
	}
	routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pattern := route(r); pattern != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("http.route", routePath(pattern)))
		}
		next.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(routed, "countersign",
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if pattern := route(r); pattern != "" {
				return r.Method + " " + routePath(pattern)
			}
			return r.Method
		}),
		otelhttp.WithMetricAttributesFn(func(r *http.Request) []attribute.KeyValue {
			return []attribute.KeyValue{attribute.String("http.route", routePath(route(r)))}
		}),
	)
}

// routePath is a ServeMux pattern without its method: "GET /v1/x/{id}"
// becomes "/v1/x/{id}".
func routePath(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimSpace(pattern[i+1:])
	}
	return pattern
}

// Client is an HTTP client whose calls to another service (named service,
// such as "slack") are client spans, named by the service and the last part
// of the URL path ("slack chat.postMessage"), so an auditor sees them in the
// trace of the step that made them. Trace context is not sent along: the
// service is someone else's. Bodies are never recorded. A nil Telemetry
// returns a plain client.
func (t *Telemetry) Client(service string) *http.Client {
	if t == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return service + " " + r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		}),
	)}
}
