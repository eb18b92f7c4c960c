package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/pflag"
)

// AddSlack adds the flags of the Slack app. Their environment variables are
// the way to give the tokens: a flag's value shows in the process list.
func (c *Config) AddSlack(fs *pflag.FlagSet) {
	fs.StringVar(&c.SlackBotToken, "slack-bot-token", "", usage("slack-bot-token", "Slack bot token (xoxb-…): reviews are posted to Slack and decided there; prefer the environment variable"))
	fs.StringVar(&c.SlackSigningSecret, "slack-signing-secret", "", usage("slack-signing-secret", "Slack app's signing secret: POST /slack/interactions and /slack/commands answer only requests it signed; prefer the environment variable"))
	fs.StringVar(&c.SlackAppToken, "slack-app-token", "", usage("slack-app-token", "Slack app-level token (xapp-…, scope connections:write): take interactions and commands over Socket Mode, with no public endpoint; prefer the environment variable"))
	fs.StringVar(&c.SlackChannel, "slack-channel", "", usage("slack-channel", "Slack channel (ID, or name for public channels) reviews are posted to when the task type names none"))
	fs.StringVar(&c.SlackAPIURL, "slack-api-url", "", usage("slack-api-url", "base URL of Slack's Web API, for a proxy (default https://slack.com/api/)"))
	fileVar(fs, &c.SlackUsersFile, "slack-users-file", usage("slack-users-file", "file of Slack account links made at start, one \"SLACK_MEMBER_ID USER ROLE [GROUP,...]\" a line; links made through the API stay"))
	fs.StringVar(&c.PublicURL, "public-url", "", usage("public-url", "base URL people reach the API and web page at, such as https://countersign.example.com, for the links in notices (dev: the --http address)"))
}

// ReviewLinks returns where a person opens a review on the web page, from
// --public-url or, when that is not set, from the address the API listens on
// (dev); nil when neither says (a port chosen by the system).
func (c *Config) ReviewLinks() func(reviewID string) string {
	base := strings.TrimRight(c.PublicURL, "/")
	if base == "" && c.HTTPAddr != "" && !strings.HasSuffix(c.HTTPAddr, ":0") {
		host := c.HTTPAddr
		if strings.HasPrefix(host, ":") {
			host = "127.0.0.1" + host
		}
		base = "http://" + host
	}
	if base == "" {
		return nil
	}
	return func(reviewID string) string { return base + "/ui/reviews/" + url.PathEscape(reviewID) }
}

// SlackEnabled reports whether Slack is on: a bot token is set.
func (c *Config) SlackEnabled() bool { return c.SlackBotToken != "" }

// CheckSlack reports a Slack configuration that cannot work: a signing
// secret or app token without a bot token, tokens given in each other's
// place, or an API URL that is not http(s).
func (c *Config) CheckSlack() error {
	switch {
	case c.SlackBotToken == "" && (c.SlackSigningSecret != "" || c.SlackAppToken != "" || c.SlackChannel != ""):
		return fmt.Errorf("Slack is configured without a bot token: set --slack-bot-token (or %s)", Env("slack-bot-token"))
	case c.SlackBotToken == "":
		return nil
	case strings.HasPrefix(c.SlackBotToken, "xapp-"):
		return fmt.Errorf("--slack-bot-token holds an app-level token (xapp-…): give the bot token (xoxb-…) there and the app-level token to --slack-app-token")
	case c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-"):
		return fmt.Errorf("--slack-app-token must be an app-level token (xapp-…), made under Basic Information → App-Level Tokens with scope connections:write")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q is not an http(s) URL", c.PublicURL)
		}
	}
	if c.SlackAPIURL != "" {
		u, err := url.Parse(c.SlackAPIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--slack-api-url %q is not an http(s) URL", c.SlackAPIURL)
		}
	}
	return nil
}
