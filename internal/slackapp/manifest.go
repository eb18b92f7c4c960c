package slackapp

import (
	"github.com/slack-go/slack"

	"github.com/countersign/countersign/internal/slackapp/slackmanifest"
)

// The paths countersign's API answers Slack at, over HTTP (api.Router).
const (
	InteractionsPath = slackmanifest.InteractionsPath
	CommandsPath     = slackmanifest.CommandsPath
)

// Command is the slash command the manifest creates; the handler answers
// whatever name Slack sends it under.
const Command = slackmanifest.Command

// BotScopes are the bot token scopes countersign needs; see
// slackmanifest.BotScopes.
func BotScopes() []string { return slackmanifest.BotScopes() }

// Manifest is the Slack app manifest; see slackmanifest.Manifest.
func Manifest(name, publicURL string, socketMode bool) (*slack.Manifest, error) {
	return slackmanifest.Manifest(name, publicURL, socketMode)
}
