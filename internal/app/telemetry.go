package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/telemetry"
)

// observability is the App's telemetry and what serves it.
type observability struct {
	// Telemetry traces the roles' work and holds their metrics.
	Telemetry *telemetry.Telemetry
	// MetricsURL is where a worker without the API serves its metrics
	// (--metrics), once it listens.
	MetricsURL string

	ownsTelemetry bool
	metricsServer *http.Server
	queueGauges   metric.Registration
}

// Option changes how Start builds an App.
type Option func(*App)

// WithTelemetry makes the App use t rather than telemetry set up from the
// OTEL_* environment. The caller shuts t down, after stopping the App.
func WithTelemetry(t *telemetry.Telemetry) Option {
	return func(a *App) { a.Telemetry = t }
}

// setupTelemetry sets telemetry up from the environment unless an Option
// gave it.
func (a *App) setupTelemetry(ctx context.Context) error {
	if a.Telemetry != nil {
		return nil
	}
	t, err := telemetry.Setup(ctx, telemetry.Options{})
	if err != nil {
		return err
	}
	a.Telemetry, a.ownsTelemetry = t, true
	return nil
}

// traced is the store as the roles use it: every call a span.
func (a *App) traced() countersign.Store {
	system := telemetry.DBSQLite
	if a.Config.DatabaseURL != "" {
		system = telemetry.DBPostgres
	}
	return a.Telemetry.TraceStore(a.Store, system)
}

// observeQueue registers the review queue gauges, read from the store at
// each collection. Only processes with the API role report them, so that
// worker replicas do not multiply the store's reads.
func (a *App) observeQueue() error {
	var names []string
	for _, tt := range a.TaskTypes.All() {
		names = append(names, tt.Name)
	}
	reg, err := telemetry.ObserveQueue(a.Telemetry.MeterProvider, a.Store, names, time.Now)
	if err != nil {
		return fmt.Errorf("review queue metrics: %w", err)
	}
	a.queueGauges = reg
	return nil
}

// serveMetrics serves GET /metrics on --metrics, for a worker, which has no
// API address to serve it on.
func (a *App) serveMetrics() error {
	if a.Config.MetricsAddr == "" || a.Roles.API {
		return nil
	}
	listener, err := net.Listen("tcp", a.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	a.MetricsURL = "http://" + listener.Addr().String() + "/metrics"
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Telemetry.MetricsHandler())
	a.metricsServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.metricsServer.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errs <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return nil
}

// stopTelemetry stops serving metrics and, when the App set telemetry up,
// flushes and shuts it down: the last spans and metrics of the run leave
// the process.
func (a *App) stopTelemetry() {
	if a.metricsServer != nil {
		_ = a.metricsServer.Close()
	}
	if a.queueGauges != nil {
		_ = a.queueGauges.Unregister()
	}
	if a.Telemetry == nil || !a.ownsTelemetry {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Telemetry.Shutdown(ctx); err != nil {
		a.Logger.Warn("flushing telemetry", "error", err)
	}
}
