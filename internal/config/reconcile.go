package config

import (
	"time"

	"github.com/spf13/pflag"
)

// AddReconcile adds --reconcile-interval, for the roles that run a worker.
func (c *Config) AddReconcile(fs *pflag.FlagSet) {
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", time.Minute, usage("reconcile-interval",
		"how often a worker starts the review workflow of documents stored without one (after waiting this long for it) and closes the reviews whose workflow was terminated or timed out in Temporal"))
}
