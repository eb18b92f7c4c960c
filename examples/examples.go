// Package examples ships the example task types inside the binary, so that
// `countersign dev` has something to review with no files around it. The
// sample documents next to them are for trying it out and for tests.
package examples

import "embed"

// TaskTypes holds every examples/*/*.yaml: each example's task type, and
// soc-alert-triage's webhook variant beside it.
//
//go:embed */*.yaml
var TaskTypes embed.FS
