package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/slackapp"
	"github.com/countersign/countersign/internal/slacklink"
	"github.com/countersign/countersign/internal/tasktype"
)

// slackRole is Slack as an App runs it: one Web API client shared by the
// worker's notices and the API's answers, so that one process keeps to one
// rate budget, and the Socket Mode connection's stop.
type slackRole struct {
	client *slackapp.Client
	stop   context.CancelFunc
}

// setupSlack checks the Slack configuration and makes the client when a
// bot token is set; without one, Slack stays off.
func (a *App) setupSlack() error {
	if err := a.Config.CheckSlack(); err != nil {
		return err
	}
	if !a.Config.SlackEnabled() {
		return nil
	}
	// Every Slack call is a span in the trace of the step that made it.
	options := []slack.Option{slack.OptionHTTPClient(a.Telemetry.Client("slack"))}
	if a.Config.SlackAppToken != "" {
		options = append(options, slack.OptionAppLevelToken(a.Config.SlackAppToken))
	}
	a.slack.client = slackapp.NewClient(a.Config.SlackBotToken, a.Config.SlackAPIURL, options...)
	if a.Config.SlackUsersFile != "" {
		raw, err := os.ReadFile(a.Config.SlackUsersFile)
		if err != nil {
			return fmt.Errorf("--slack-users-file: %w", err)
		}
		links, err := slacklink.ParseLinks(string(raw))
		if err != nil {
			return fmt.Errorf("--slack-users-file %s: %w", a.Config.SlackUsersFile, err)
		}
		if err := a.linkSlackUsers(context.Background(), links); err != nil {
			return err
		}
	}
	if a.Roles.API && a.Config.SlackSigningSecret == "" && a.Config.SlackAppToken == "" {
		a.Logger.Warn("Slack buttons will not work: set COUNTERSIGN_SLACK_SIGNING_SECRET (interactivity over HTTP) or COUNTERSIGN_SLACK_APP_TOKEN (Socket Mode)")
	}
	return nil
}

// linkSlackUsers makes the links of --slack-users-file in the store; every
// replica may, since a link in place changes nothing.
func (a *App) linkSlackUsers(ctx context.Context, links []countersign.SlackUser) error {
	changed, err := slacklink.LinkAll(ctx, a.Store, links, "config:"+filepath.Base(a.Config.SlackUsersFile), time.Now())
	if err != nil {
		return fmt.Errorf("--slack-users-file: %w", err)
	}
	if changed > 0 {
		a.Logger.Info("Slack accounts linked from the configuration", "file", a.Config.SlackUsersFile, "changed", changed, "links", len(links))
	}
	return nil
}

// slackNotifier is the worker's notifier: nil (no notices) without Slack.
func (a *App) slackNotifier() countersign.Notifier {
	if a.slack.client == nil {
		return nil
	}
	return &slackapp.Notifier{Slack: a.slack.client, Channel: a.Config.SlackChannel, Users: a.traced(), TaskTypes: a.TaskTypes,
		Versions: tasktype.NewResolver(a.TaskTypes, a.Store), Logger: a.Logger}
}

// slackHandler answers people in Slack, deciding through the App's
// dispatcher, as the API does.
func (a *App) slackHandler() *slackapp.Handler {
	return &slackapp.Handler{
		Store:     a.traced(),
		TaskTypes: a.TaskTypes,
		Versions:  tasktype.NewResolver(a.TaskTypes, a.Store),
		Decider:   a.dispatcher(),
		Claims:    a.dispatcher(),
		Slack:     a.slack.client,
		Logger:    a.Logger,
	}
}

// slackEndpoints are the API's Slack endpoints: nil, nil unless a signing
// secret verifies them.
func (a *App) slackEndpoints() (interactions, commands http.Handler) {
	if a.slack.client == nil || a.Config.SlackSigningSecret == "" {
		return nil, nil
	}
	endpoints := slackapp.NewHTTP(a.slackHandler(), a.Config.SlackSigningSecret, a.traced())
	return endpoints.Interactions(), endpoints.Commands()
}

// startSlackSocket connects to Slack over Socket Mode when an app-level
// token is set, until the App stops.
func (a *App) startSlackSocket() {
	if a.slack.client == nil || a.Config.SlackAppToken == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.slack.stop = cancel
	go slackapp.NewSocket(a.slackHandler(), a.slack.client).Run(ctx)
}

func (a *App) stopSlack() {
	if a.slack.stop != nil {
		a.slack.stop()
	}
}
