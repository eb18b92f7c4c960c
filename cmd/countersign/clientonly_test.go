//go:build !clientonly

package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// serverPackages are what the client binary (-tags clientonly) must not
// link: the embedded Temporal server, whose package initialisation alone
// made every client command start a tenth of a second late; Temporal's SDK
// and API, gRPC and OpenTelemetry's exporters, which the router, the
// workflows and the dispatcher brought along (another 20 ms); and
// countersign's own server packages, which link them. The client reads its
// wire types from api/wire, routing from internal/routing, flag variables
// from config/flagenv and the Slack manifest from slackapp/slackmanifest.
// A path ending in / names the packages under it; any other names one.
var serverPackages = []string{
	"go.temporal.io/",
	"google.golang.org/grpc/",
	"go.opentelemetry.io/otel/exporters/",
	"github.com/countersign/countersign/internal/app",
	"github.com/countersign/countersign/internal/devserver",
	"github.com/countersign/countersign/api",
	"github.com/countersign/countersign/workflows",
	"github.com/countersign/countersign/activities",
	"github.com/countersign/countersign/internal/dispatch",
	"github.com/countersign/countersign/internal/slackapp",
	"github.com/countersign/countersign/internal/config",
	"github.com/countersign/countersign/internal/telemetry",
}

// TestClientBinaryLeavesServerOut builds the client binary as make build
// does and checks that it links none of the server, still runs the client
// commands, and has none of the server roles: it lists none, and running
// one points to the countersign binary.
func TestClientBinaryLeavesServerOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "clientonly", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -tags clientonly -deps: %v\n%s", err, out)
	}
	var linked []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, server := range serverPackages {
			if pkg == strings.TrimSuffix(server, "/") || (strings.HasSuffix(server, "/") && strings.HasPrefix(pkg, server)) {
				linked = append(linked, pkg)
			}
		}
	}
	if len(linked) > 0 {
		t.Errorf("the client binary links %d server packages, such as %s: a file the client commands build from imports the server (give it //go:build !clientonly, or move what the client needs out of the server's packages)",
			len(linked), strings.Join(linked[:min(5, len(linked))], ", "))
	}

	bin := filepath.Join(t.TempDir(), "countersign-cli")
	if out, err := exec.Command("go", "build", "-tags", "clientonly", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags clientonly: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("countersign-cli --help: %v\n%s", err, help)
	}
	commands := helpCommands(string(help))
	full := newRoot()
	for _, server := range serverRoles(deps{}) {
		if commands[server.Name()] {
			t.Errorf("countersign-cli --help lists the server role %s", server.Name())
		}
	}
	for _, server := range serverRoles(deps{}) {
		out, err := exec.Command(bin, server.Name(), "--help").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "run it with the countersign binary") {
			t.Errorf("countersign-cli %s --help: %v, %q; want exit status 2 and a pointer to the countersign binary", server.Name(), err, out)
		}
	}
	for _, cmd := range full.Commands() {
		if cmd.Hidden || !cmd.IsAvailableCommand() || isServerRole(cmd.Name()) {
			continue
		}
		if !commands[cmd.Name()] {
			t.Errorf("countersign-cli --help does not list %s, a client command of countersign", cmd.Name())
		}
	}
}

// isServerRole reports whether name is one of the full binary's server roles.
func isServerRole(name string) bool {
	for _, cmd := range serverRoles(deps{}) {
		if cmd.Name() == name {
			return true
		}
	}
	return false
}

// helpCommands returns the command names under "Available Commands:" in
// cobra's help output.
func helpCommands(help string) map[string]bool {
	names := map[string]bool{}
	_, list, ok := strings.Cut(help, "Available Commands:\n")
	if !ok {
		return names
	}
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		names[strings.Fields(line)[0]] = true
	}
	return names
}
