// Package datadir names what a running dev stack leaves in its data dir
// for the client commands: where its API listens and its admin token. It
// imports nothing of countersign's, so the client binary (countersign-cli)
// reads them without linking the server that writes them (internal/app).
package datadir

const (
	// AdminTokenFile holds the dev stack's admin API token.
	AdminTokenFile = "admin.token"
	// DevFile records where a running dev stack listens, as DevInfo.
	DevFile = "dev.json"
)

// DevInfo is what DevFile holds.
type DevInfo struct {
	API      string `json:"api"`
	Temporal string `json:"temporal"`
	PID      int    `json:"pid"`
}
