// Command countersign is the review engine's one binary: the embedded dev
// stack, the production worker and API roles, and the client commands that
// talk to the API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "countersign:", err)
		var exit exitError
		switch {
		case errors.As(err, &exit):
			os.Exit(exit.code)
		case strings.HasPrefix(err.Error(), "unknown command"):
			fmt.Fprintln(os.Stderr, "See 'countersign --help'.")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

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
	root := &cobra.Command{
		Use:   "countersign",
		Short: "Human-in-the-loop review of LLM document extraction, on Temporal",
		Long: `countersign drafts structured fields from documents, scores how far each draft
can be trusted, and routes it by a versioned policy: accepted on its own, or
held at a durable human gate until a reviewer approves, corrects or rejects it.
Every step is recorded in a tamper-evident audit log.

Start everything on this machine with "countersign dev", then submit documents
with "countersign submit" and decide reviews with "countersign reviews" and
"countersign decide".`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// The one place flags take their environment variables, for every
		// command: a command cannot forget to.
		PersistentPreRunE: applyEnv,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return exitError{code: 2, err: fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())}
	})
	root.AddCommand(
		newDev(d), newWorker(d), newAPI(d),
		newSubmit(), newReviews(), newReview(), newNext(), newDecide(), newAudit(), newToken(),
		newTaskType(), newCalibrate(), newPolicy(),
		newVeto(), newEscalate(), newStats(), newReviewers(), newExport(), newGold(), newBatch(),
		newCodecServer(d), newMigrate(), newUser(), newKeygen(),
		newTemporal(), newSlack(),
	)
	return root
}

// usage wraps a positional-argument check so that its failure is a usage
// error: exit status 2 and a pointer to --help.
func usage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return exitError{code: 2, err: fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())}
		}
		return nil
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
