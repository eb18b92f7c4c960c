package audit

import (
	"testing"
	"time"
)

// QuickRechecks shortens the pauses before a mismatching row is looked at
// again, for the test's duration: tamper tests need not wait for a step in
// flight.
func QuickRechecks(t *testing.T) {
	was := recheckAfter
	recheckAfter = []time.Duration{time.Millisecond}
	t.Cleanup(func() { recheckAfter = was })
}
