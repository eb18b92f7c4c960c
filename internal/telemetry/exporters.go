package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The environment variables Setup reads itself; the exporters read the rest
// (OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _TIMEOUT, their per-signal forms,
// OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL).
const (
	EnvTracesExporter  = "OTEL_TRACES_EXPORTER"
	EnvMetricsExporter = "OTEL_METRICS_EXPORTER"
	EnvProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol  = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
)

// Exporter names, as OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER take
// them (comma-separated).
const (
	ExporterNone       = "none"
	ExporterOTLP       = "otlp"
	ExporterConsole    = "console"
	ExporterPrometheus = "prometheus"
)

// OTLP protocols. The specification's default is http/protobuf.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// exporterNames reads a comma-separated exporter list; unset means none.
func exporterNames(env string) []string {
	var names []string
	for _, name := range strings.Split(os.Getenv(env), ",") {
		if name = strings.TrimSpace(strings.ToLower(name)); name != "" && name != ExporterNone {
			names = append(names, name)
		}
	}
	return names
}

// protocol is the OTLP protocol of a signal: its own variable, else the
// general one, else http/protobuf.
func protocol(signalEnv string) (string, error) {
	p := os.Getenv(signalEnv)
	if p == "" {
		p = os.Getenv(EnvProtocol)
	}
	switch p {
	case "", ProtocolHTTP:
		return ProtocolHTTP, nil
	case ProtocolGRPC:
		return ProtocolGRPC, nil
	}
	return "", fmt.Errorf("%s=%q: countersign speaks OTLP as %s or %s", signalEnv, p, ProtocolHTTP, ProtocolGRPC)
}

// spanExporters are the exporters OTEL_TRACES_EXPORTER names, and a
// description for the banner.
func spanExporters(ctx context.Context) ([]sdktrace.SpanExporter, string, error) {
	var exporters []sdktrace.SpanExporter
	var described []string
	for _, name := range exporterNames(EnvTracesExporter) {
		switch name {
		case ExporterOTLP:
			proto, err := protocol(EnvTracesProtocol)
			if err != nil {
				return nil, "", err
			}
			var exp sdktrace.SpanExporter
			if proto == ProtocolGRPC {
				exp, err = otlptracegrpc.New(ctx)
			} else {
				exp, err = otlptracehttp.New(ctx)
			}
			if err != nil {
				return nil, "", fmt.Errorf("OTLP trace exporter: %w", err)
			}
			exporters = append(exporters, exp)
			described = append(described, "otlp ("+proto+")")
		case ExporterConsole:
			exp, err := stdouttrace.New()
			if err != nil {
				return nil, "", fmt.Errorf("console trace exporter: %w", err)
			}
			exporters = append(exporters, exp)
			described = append(described, ExporterConsole)
		default:
			return nil, "", fmt.Errorf("%s=%q: countersign exports traces to otlp, console or none", EnvTracesExporter, name)
		}
	}
	if len(described) == 0 {
		return nil, ExporterNone, nil
	}
	return exporters, strings.Join(described, ", "), nil
}

// metricReaders are the periodic readers OTEL_METRICS_EXPORTER names, beyond
// the Prometheus handler that is always there, and a description for the
// banner ("" when there are none).
func metricReaders(ctx context.Context) ([]sdkmetric.Reader, string, error) {
	var readers []sdkmetric.Reader
	var described []string
	for _, name := range exporterNames(EnvMetricsExporter) {
		switch name {
		case ExporterPrometheus:
		case ExporterOTLP:
			proto, err := protocol(EnvMetricsProtocol)
			if err != nil {
				return nil, "", err
			}
			var exp sdkmetric.Exporter
			if proto == ProtocolGRPC {
				exp, err = otlpmetricgrpc.New(ctx)
			} else {
				exp, err = otlpmetrichttp.New(ctx)
			}
			if err != nil {
				return nil, "", fmt.Errorf("OTLP metric exporter: %w", err)
			}
			readers = append(readers, sdkmetric.NewPeriodicReader(exp))
			described = append(described, "otlp ("+proto+")")
		case ExporterConsole:
			exp, err := stdoutmetric.New()
			if err != nil {
				return nil, "", fmt.Errorf("console metric exporter: %w", err)
			}
			readers = append(readers, sdkmetric.NewPeriodicReader(exp))
			described = append(described, ExporterConsole)
		default:
			return nil, "", fmt.Errorf("%s=%q: countersign exports metrics to prometheus (always), otlp, console or none", EnvMetricsExporter, name)
		}
	}
	return readers, strings.Join(described, ", "), nil
}
