package slackapp

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign/internal/slackapp/slackmanifest"
)

// TestManifest: over HTTP the manifest points the slash command and
// interactivity at the public URL's Slack paths; over Socket Mode at none;
// an address Slack will not call is refused with what to give instead.
func TestManifest(t *testing.T) {
	m, err := Manifest("", "https://countersign.example.com/", false)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Display struct {
			Name string `json:"name"`
		} `json:"display_information"`
		Features struct {
			SlashCommands []struct {
				Command string `json:"command"`
				URL     string `json:"url"`
			} `json:"slash_commands"`
		} `json:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `json:"is_enabled"`
				RequestURL string `json:"request_url"`
			} `json:"interactivity"`
			SocketMode *bool `json:"socket_mode_enabled"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Display.Name != "countersign" || len(got.Features.SlashCommands) != 1 || got.Features.SlashCommands[0].Command != "/countersign" ||
		got.Features.SlashCommands[0].URL != "https://countersign.example.com/slack/commands" ||
		!got.Settings.Interactivity.IsEnabled || got.Settings.Interactivity.RequestURL != "https://countersign.example.com/slack/interactions" ||
		got.Settings.SocketMode != nil {
		t.Fatalf("HTTP manifest:\n%s", raw)
	}
	if want := []string{"chat:write", "commands", "im:write"}; !slices.Equal(got.OAuth.Scopes.Bot, want) {
		t.Fatalf("bot scopes %v, want %v", got.OAuth.Scopes.Bot, want)
	}

	socket, err := Manifest("review-bot", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if !socket.Settings.SocketModeEnabled || socket.Settings.Interactivity.RequestUrl != "" || socket.Features.SlashCommands[0].Url != "" || socket.Display.Name != "review-bot" {
		t.Fatalf("Socket Mode manifest: %+v", socket)
	}

	for url, want := range map[string]string{
		"":                                 "required over HTTP",
		"http://countersign.example.com":   "only to https",
		"countersign.example.com":          "not an absolute URL",
		"https://countersign.example/?a=1": "without a query",
	} {
		if _, err := Manifest("", url, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("public URL %q: %v, want an error saying %q", url, err, want)
		}
	}
}

// TestManifestScopesCoverCalls: every Slack Web API method this package
// calls (a method of slack.Client, with or without Context) has its scope
// in slackmanifest.WebAPIScopes, and so in the manifest; a call added without one fails
// here rather than in a workspace with a missing_scope error.
func TestManifestScopesCoverCalls(t *testing.T) {
	client := reflect.TypeOf(&slack.Client{})
	isWebAPI := map[string]bool{}
	for i := range client.NumMethod() {
		isWebAPI[strings.TrimSuffix(client.Method(i).Name, "Context")] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if method := strings.TrimSuffix(sel.Sel.Name, "Context"); isWebAPI[method] {
						called[method] = true
						if _, ok := slackmanifest.WebAPIScopes[method]; !ok {
							t.Errorf("%s calls slack %s, which WebAPIScopes does not list: add the bot scope it needs", fset.Position(call.Pos()), method)
						}
					}
				}
			}
			return true
		})
	}
	if len(called) < 3 {
		t.Fatalf("found calls of %v only; the scan misses the package's Slack calls", called)
	}
	for method := range slackmanifest.WebAPIScopes {
		if !called[method] {
			t.Errorf("WebAPIScopes lists %s, which the package no longer calls", method)
		}
	}
}
