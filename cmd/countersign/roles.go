//go:build !clientonly

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// deps are what the server commands run once their configuration is
// complete. A test replaces them to see the configuration a command would
// start with, instead of starting it.
type deps struct {
	// start starts the roles of dev, worker and api.
	start func(ctx context.Context, cfg config.Config, roles app.Roles, logger *slog.Logger) (*app.App, error)
	// codecServer runs the codec server until ctx ends.
	codecServer func(ctx context.Context, cfg config.Config, out io.Writer, logger *slog.Logger) error
}

// newRoot returns the binary's command tree.
func newRoot() *cobra.Command {
	return newRootWith(deps{
		start: func(ctx context.Context, cfg config.Config, roles app.Roles, logger *slog.Logger) (*app.App, error) {
			return app.Start(ctx, cfg, roles, logger)
		},
		codecServer: runCodecServer,
	})
}

func newRootWith(d deps) *cobra.Command {
	root := rootCommand("countersign", `countersign drafts structured fields from documents, scores how far each draft
can be trusted, and routes it by a versioned policy: accepted on its own, or
held at a durable human gate until a reviewer approves, corrects or rejects it.
Every step is recorded in a tamper-evident audit log.

Start everything on this machine with "countersign dev", then submit documents
with "countersign submit" and decide reviews with "countersign reviews" and
"countersign decide".`)
	root.AddCommand(serverRoles(d)...)
	return root
}

// serverRoles are the commands that start or set up a server: the
// countersign-cli binary leaves them, and the Temporal server they link,
// out.
func serverRoles(d deps) []*cobra.Command {
	return []*cobra.Command{
		newDev(d), newWorker(d), newAPI(d),
		newCodecServer(d), newMigrate(), newTemporal(),
	}
}

// newLogger builds the server roles' logger from the configuration.
func newLogger(cfg config.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("%s: %q is not one of debug, info, warn, error", config.Setting("log-level"), cfg.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.LogFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("%s: %q is not text or json", config.Setting("log-format"), cfg.LogFormat)
}
