// Command countersign is the review engine's binary: the embedded dev
// stack, the production worker and API roles, and the client commands that
// talk to the API.
//
// Built with -tags clientonly (make build: bin/countersign-cli) it holds
// the client commands alone. Go runs the package initialisation of every
// package a binary links, and that of the embedded Temporal server's
// dependencies takes a tenth of a second or more; a client command run
// once per call should not wait for a server it never starts. The files of
// the server roles say so with //go:build !clientonly; the client commands
// are the same source in both binaries.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", root.Name(), err)
		var exit exitError
		switch {
		case errors.As(err, &exit):
			os.Exit(exit.code)
		case strings.HasPrefix(err.Error(), "unknown command"):
			fmt.Fprintf(os.Stderr, "See '%s --help'.\n", root.Name())
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

// rootCommand returns the command tree of the client commands, under a
// root named name and described by long; the full binary adds its server
// roles to it.
func rootCommand(name, long string) *cobra.Command {
	root := &cobra.Command{
		Use:           name,
		Short:         "Human-in-the-loop review of LLM document extraction, on Temporal",
		Long:          long,
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
		newSubmit(), newReviews(), newReview(), newNext(), newDecide(), newAudit(), newToken(),
		newTaskType(), newCalibrate(), newPolicy(),
		newVeto(), newEscalate(), newStats(), newReviewers(), newExport(), newGold(), newBatch(),
		newUser(), newKeygen(), newSlack(),
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
