//go:build !clientonly

package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/devserver"
)

func newTemporal() *cobra.Command {
	var cfg config.Config
	cmd := &cobra.Command{
		Use:   "temporal --temporal-database-url URL",
		Short: "Run a Temporal server on Postgres, alone: the Temporal of a one-machine topology",
		Long: `Runs the Temporal server countersign dev embeds, alone in its process and on
Postgres, for worker and api processes on the same machine to use: the
production topology on one machine, without a Temporal cluster. It is the
same server code a cluster runs (go.temporal.io/server, the version this
binary was built with), with its four services in one process and four
history shards.

--temporal-database-url names Temporal's database; its visibility records go
to a second database on the same server, named after it with _visibility
(temporal and temporal_visibility). Both are created when missing, which
needs a login with CREATEDB, or create them for it beforehand; on every start
Temporal's schema in them is created or updated with Temporal's own schema
tool, from the schema files built into the binary. --namespace is created on
first start. The server's log (warnings and errors) goes to
<data-dir>/temporal.log.

It listens on 127.0.0.1:--temporal-port only. Run one at a time per
database. For more than one machine, run Temporal as its operators advise, or
use Temporal Cloud.`,
		Example: `  countersign temporal --temporal-database-url postgres://temporal:password@127.0.0.1:5432/temporal \
    --namespace countersign --data-dir /var/lib/countersign-temporal`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTemporal(cmd, cfg)
		},
	}
	cfg.AddDataDir(cmd.Flags())
	cfg.AddDev(cmd.Flags())
	cfg.AddTemporalDatabase(cmd.Flags())
	return cmd
}

// runTemporal runs the Temporal server until SIGINT or SIGTERM, then stops
// it cleanly.
func runTemporal(cmd *cobra.Command, cfg config.Config) error {
	if cfg.TemporalDatabaseURL == "" {
		return exitError{code: 2, err: errors.New(config.Setting("temporal-database-url") + " is required: countersign temporal runs on Postgres (countersign dev keeps Temporal on SQLite)")}
	}
	if err := config.CheckCacheSize("temporal-history-cache-size", cfg.TemporalHistoryCacheSize); err != nil {
		return exitError{code: 2, err: err}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.ErrOrStderr()
	logFile := filepath.Join(cfg.DataDir, app.TemporalLog)
	srv, err := devserver.Start(ctx, devserver.Options{
		DatabaseURL: cfg.TemporalDatabaseURL,
		Port:        cfg.TemporalPort,
		Namespace:   cfg.Namespace,
		LogFile:     logFile,
		CacheSize:   cfg.TemporalHistoryCacheSize,
	})
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(logFile); err == nil {
		logFile = abs
	}
	fmt.Fprintln(out, "countersign temporal is running")
	fmt.Fprintf(out, "  Temporal    %s, namespace %s\n", srv.Address(), cfg.Namespace)
	fmt.Fprintf(out, "  stored in   %s\n", srv.Storage())
	fmt.Fprintf(out, "  log         %s\n", logFile)
	fmt.Fprintln(out, "Stop with Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(out, "countersign temporal: stopping ...")
	srv.Stop()
	fmt.Fprintln(out, "countersign temporal: stopped")
	return nil
}
