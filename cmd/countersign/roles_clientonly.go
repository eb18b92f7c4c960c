//go:build clientonly

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newRoot returns the client binary's command tree: the client commands
// alone, without the server roles.
func newRoot() *cobra.Command {
	root := rootCommand("countersign-cli", `countersign-cli holds countersign's client commands alone: they talk to the
REST API of a running countersign and start no server, so each starts at
once. The server roles (dev, worker, api, codec-server, migrate, temporal)
are in the countersign binary, which has these commands too.

Submit documents with "countersign-cli submit" and decide reviews with
"countersign-cli reviews" and "countersign-cli decide".`)
	for _, name := range []string{"dev", "worker", "api", "codec-server", "migrate", "temporal"} {
		root.AddCommand(serverRoleElsewhere(name))
	}
	return root
}

// serverRoleElsewhere stands in for a server role the client binary leaves
// out, so that someone who runs it here learns which binary has it rather
// than reading "unknown command".
func serverRoleElsewhere(name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exitError{code: 2, err: fmt.Errorf("%s is a server role, which countersign-cli leaves out: run it with the countersign binary (make build: bin/countersign)", name)}
		},
	}
}
