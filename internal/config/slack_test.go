package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestSlackFromEnv(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("dev", pflag.ContinueOnError)
	c.AddSlack(fs)
	for name, value := range map[string]string{
		"COUNTERSIGN_SLACK_BOT_TOKEN": "xoxb-1", "COUNTERSIGN_SLACK_SIGNING_SECRET": "s3cret", "COUNTERSIGN_SLACK_APP_TOKEN": "xapp-1",
		"COUNTERSIGN_SLACK_CHANNEL": "#reviews", "COUNTERSIGN_SLACK_API_URL": "http://127.0.0.1:9/api/",
	} {
		t.Setenv(name, value)
	}
	if err := fs.Parse([]string{"--slack-channel", "#contracts"}); err != nil {
		t.Fatal(err)
	}
	if err := FromEnv(fs, nil); err != nil {
		t.Fatal(err)
	}
	if c.SlackBotToken != "xoxb-1" || c.SlackSigningSecret != "s3cret" || c.SlackAppToken != "xapp-1" || c.SlackChannel != "#contracts" || c.SlackAPIURL != "http://127.0.0.1:9/api/" {
		t.Fatalf("from the environment: %+v (the flag wins over the environment)", c)
	}
	if err := c.CheckSlack(); err != nil || !c.SlackEnabled() {
		t.Fatalf("CheckSlack = %v, enabled %v", err, c.SlackEnabled())
	}
}

func TestCheckSlack(t *testing.T) {
	cases := []struct {
		c    Config
		want string
	}{
		{Config{}, ""},
		{Config{SlackBotToken: "xoxb-1"}, ""},
		{Config{SlackSigningSecret: "s"}, "without a bot token"},
		{Config{SlackBotToken: "xapp-1"}, "app-level token"},
		{Config{SlackBotToken: "xoxb-1", SlackAppToken: "xoxb-2"}, "must be an app-level token"},
		{Config{SlackBotToken: "xoxb-1", SlackAPIURL: "slack.example.com"}, "not an http(s) URL"},
	}
	for _, tc := range cases {
		err := tc.c.CheckSlack()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckSlack(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
}

func TestReviewLinks(t *testing.T) {
	for _, tc := range []struct {
		public, http, want string
	}{
		{"https://cs.example.com/", "127.0.0.1:8080", "https://cs.example.com/ui/reviews/d1-r1"},
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080/ui/reviews/d1-r1"},
		{"", ":9000", "http://127.0.0.1:9000/ui/reviews/d1-r1"},
		{"", "127.0.0.1:0", ""},
		{"", "", ""},
	} {
		c := Config{PublicURL: tc.public, HTTPAddr: tc.http}
		got := ""
		if link := c.ReviewLinks(); link != nil {
			got = link("d1-r1")
		}
		if got != tc.want {
			t.Errorf("public %q, http %q: link %q, want %q", tc.public, tc.http, got, tc.want)
		}
	}
}
