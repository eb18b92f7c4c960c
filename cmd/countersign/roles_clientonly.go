//go:build clientonly

package main

import "github.com/spf13/cobra"

// newRoot returns the client binary's command tree: the client commands
// alone, without the server roles.
func newRoot() *cobra.Command {
	return rootCommand("countersign-cli", `countersign-cli holds countersign's client commands alone: they talk to the
REST API of a running countersign and start no server, so each starts at
once. The server roles (dev, worker, api, codec-server, migrate, temporal)
are in the countersign binary, which has these commands too.

Submit documents with "countersign-cli submit" and decide reviews with
"countersign-cli reviews" and "countersign-cli decide".`)
}
