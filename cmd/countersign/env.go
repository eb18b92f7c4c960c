package main

import (
	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/config/flagenv"
)

// applyEnv gives every flag of the command about to run that the command
// line left unset the value of its environment variable (--data-dir:
// COUNTERSIGN_DATA_DIR), then checks that the files flags name can be read.
// It runs before any command's RunE, so the configuration a command builds
// from its flags already holds the environment: flag, then variable, then
// default. A bad value stops the command with exit status 2 and the
// variable's name.
func applyEnv(cmd *cobra.Command, _ []string) error {
	if err := flagenv.FromEnv(cmd.Flags(), flagOnly); err != nil {
		return exitError{code: 2, err: err}
	}
	if err := flagenv.CheckFiles(cmd.Flags()); err != nil {
		return exitError{code: 2, err: err}
	}
	return nil
}

// flagOnly names the flags that are never read from the environment: those
// that say what one command does, not how countersign is set up. A variable
// left set in a shell or a deployment would silently repeat them on every
// later command.
func flagOnly(name string) bool {
	switch name {
	case "help":
		// cobra's own.
		return true
	case "reason", "field", "fields", "approves":
		// What one person decides (decide, veto, policy reset, token revoke):
		// a left-over variable would put the same words or values into
		// every later decision and into the audit log.
		return true
	case "user", "role", "groups", "slack":
		// Whom a token or a Slack link is for and what it may do: a left-over
		// COUNTERSIGN_ROLE=admin would grant admin to the next token made.
		return true
	case "output":
		// Where keygen, checkpoint and export write: one variable for all
		// three would have them overwrite each other's files.
		return true
	}
	return false
}
