package config

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign/activities"
)

// AddReconcile adds --reconcile-interval and --audit-settle, for the roles
// that run a worker.
func (c *Config) AddReconcile(fs *pflag.FlagSet) {
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", time.Minute, usage("reconcile-interval",
		"how often a worker starts the review workflow of documents stored without one (after waiting this long for it) and closes the reviews whose workflow was terminated or timed out in Temporal"))
	fs.DurationVar(&c.AuditSettle, "audit-settle", activities.DefaultAuditSettle, usage("audit-settle",
		"how long after an audit opens the supervisor waits before it counts it (and after one is due, before it counts it as escaped): an audit review stored later than this, behind one already counted, is missed"))
}

// AddClaims adds --claim-lease, for the roles that serve people.
func (c *Config) AddClaims(fs *pflag.FlagSet) {
	fs.DurationVar(&c.ClaimLease, "claim-lease", 15*time.Minute, usage("claim-lease",
		"how long a claim holds a review for the person who claimed it (review claim, next, the web page) unless they renew it; then anyone may take it"))
}
