package main

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// slackLine says whether reviews go to Slack, and how Slack's answers
// come back.
func slackLine(a *app.App) string {
	c := a.Config
	if !c.SlackEnabled() {
		return fmt.Sprintf("off (set %s to post reviews to Slack)", config.Env("slack-bot-token"))
	}
	var parts []string
	if a.Roles.Worker {
		channel := c.SlackChannel
		if channel == "" {
			channel = "the task types' channels only"
		}
		parts = append(parts, "reviews posted to "+channel)
	}
	if a.Roles.API {
		switch {
		case c.SlackAppToken != "":
			parts = append(parts, "buttons and /countersign over Socket Mode")
		case c.SlackSigningSecret != "":
			parts = append(parts, "buttons at "+a.APIURL+"/slack/interactions, /countersign at "+a.APIURL+"/slack/commands")
		default:
			parts = append(parts, fmt.Sprintf("buttons off (set %s or %s)", config.Env("slack-signing-secret"), config.Env("slack-app-token")))
		}
	}
	return strings.Join(parts, "; ")
}
