// Package examples ships the example task types inside the binary, so that
// `countersign dev` has something to review with no files around it. The
// sample documents next to them are for trying it out and for tests.
package examples

import "embed"

// TaskTypes holds every examples/*/tasktype.yaml.
//
//go:embed */tasktype.yaml
var TaskTypes embed.FS
