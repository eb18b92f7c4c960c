// Package slackmanifest writes the Slack app manifest of countersign's
// Slack app: its slash command, interactivity and bot scopes. Package
// slackapp, the app itself, keeps its names; countersign-cli's
// `slack manifest` uses this package without linking the app and the
// dispatcher behind it.
package slackmanifest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/slack-go/slack"
)

// The paths countersign's API answers Slack at, over HTTP (api.Router).
const (
	InteractionsPath = "/slack/interactions"
	CommandsPath     = "/slack/commands"
)

// Command is the slash command the manifest creates; the handler answers
// whatever name Slack sends it under.
const Command = "/countersign"

// WebAPIScopes is the bot scope each Slack Web API method package slackapp
// calls needs (none for views.open, which a trigger authorizes).
// TestManifestScopesCoverCalls holds it to the calls in the source.
var WebAPIScopes = map[string]string{
	"PostMessage":      "chat:write",
	"UpdateMessage":    "chat:write",
	"PostEphemeral":    "chat:write",
	"OpenConversation": "im:write",
	"OpenView":         "",
}

// BotScopes are the bot token scopes countersign needs: those of the
// Web API methods it calls, and commands for /countersign.
func BotScopes() []string {
	scopes := []string{"commands"}
	for _, scope := range WebAPIScopes {
		if scope != "" && !slices.Contains(scopes, scope) {
			scopes = append(scopes, scope)
		}
	}
	slices.Sort(scopes)
	return scopes
}

// Manifest is a Slack app manifest for countersign: a bot that posts
// reviews, takes their buttons and forms, writes reminders to people
// directly, and answers /countersign. Over HTTP, Slack calls publicURL's
// InteractionsPath and CommandsPath, which must be https (Slack calls
// nothing else); over Socket Mode (socketMode) it calls no URL and
// publicURL may be empty.
func Manifest(name, publicURL string, socketMode bool) (*slack.Manifest, error) {
	if name == "" {
		name = "countersign"
	}
	m := &slack.Manifest{
		Metadata: slack.ManifestMetadata{MajorVersion: 1, MinorVersion: 1},
		Display: slack.Display{
			Name:        name,
			Description: "Reviews of LLM drafts: approve, correct or reject where the engine needs a person.",
		},
		Features: slack.Features{
			BotUser: slack.BotUser{DisplayName: name, AlwaysOnline: true},
			// Reminders come as direct messages; replies to them are not
			// read, so the tab is read-only.
			AppHome: slack.AppHome{MessagesTabEnabled: true, MessagesTabReadOnlyEnabled: true},
			SlashCommands: []slack.ManifestSlashCommand{{
				Command:     Command,
				Description: "The reviews waiting for you",
				UsageHint:   "queue | next | help",
			}},
		},
		OAuthConfig: slack.OAuthConfig{Scopes: slack.OAuthScopes{Bot: BotScopes()}},
		Settings:    slack.Settings{Interactivity: &slack.Interactivity{IsEnabled: true}},
	}
	if socketMode {
		m.Settings.SocketModeEnabled = true
		return m, nil
	}
	base, err := publicBase(publicURL)
	if err != nil {
		return nil, err
	}
	m.Features.SlashCommands[0].Url = base + CommandsPath
	m.Settings.Interactivity.RequestUrl = base + InteractionsPath
	return m, nil
}

// publicBase checks the address Slack reaches countersign's API at and
// returns it without a trailing slash.
func publicBase(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("the public URL is required over HTTP: the https address Slack reaches countersign's API at (or use Socket Mode, which needs none)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("public URL %q is not an absolute URL such as https://countersign.example.com", raw)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("public URL %q: Slack sends requests only to https addresses (or use Socket Mode, which needs none)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("public URL %q: give the API's base address, without a query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
