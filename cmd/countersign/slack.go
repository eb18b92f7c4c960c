package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/slackapp/slackmanifest"
)

func newSlack() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slack",
		Short: "Set up the Slack app",
		Args:  usage(cobra.NoArgs),
	}
	cmd.AddCommand(newSlackManifest())
	return cmd
}

func newSlackManifest() *cobra.Command {
	var (
		publicURL  string
		socketMode bool
		name       string
	)
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Print a Slack app manifest for countersign",
		Long: `Prints a Slack app manifest (JSON) for countersign: a bot with the scopes
countersign's calls need, its buttons and forms, and the /countersign command.
At api.slack.com/apps: Create New App → From an app manifest → pick the
workspace → paste it → Create; then Install to Workspace. Copy two secrets:
the Bot User OAuth Token (xoxb-…) to COUNTERSIGN_SLACK_BOT_TOKEN, and over
HTTP the Signing Secret (Basic Information) to
COUNTERSIGN_SLACK_SIGNING_SECRET, or over Socket Mode an App-Level Token with
connections:write (Basic Information → App-Level Tokens, xapp-…) to
COUNTERSIGN_SLACK_APP_TOKEN.

Over HTTP, --public-url is the https address Slack reaches countersign's API
at; Slack then calls its /slack/interactions and /slack/commands. With
--socket-mode countersign opens the connection to Slack itself and needs no
public address.`,
		Example: `  countersign slack manifest --public-url https://countersign.example.com > manifest.json
  countersign slack manifest --socket-mode`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socketMode && publicURL != "" {
				return exitError{code: 2, err: fmt.Errorf("--public-url and --socket-mode exclude each other: over Socket Mode Slack calls no URL")}
			}
			m, err := slackmanifest.Manifest(name, publicURL, socketMode)
			if err != nil {
				return exitError{code: 2, err: fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())}
			}
			return printJSON(cmd.OutOrStdout(), m)
		},
	}
	cmd.Flags().StringVar(&publicURL, "public-url", "", "https base URL Slack reaches countersign's API at (over HTTP)")
	cmd.Flags().BoolVar(&socketMode, "socket-mode", false, "a manifest for Socket Mode: no public URL, the API connects to Slack")
	cmd.Flags().StringVar(&name, "name", "countersign", "the app's and its bot's name in Slack")
	return cmd
}
