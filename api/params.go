package api

import (
	"fmt"
	"net/url"
	"time"

	"github.com/countersign/countersign"
)

// parseTime accepts RFC 3339 times and plain dates (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-01-31) nor an RFC 3339 time", s)
	}
	return t, nil
}

// timeRange reads the since and until query parameters (dates or RFC 3339
// times); a missing one leaves that end open.
func timeRange(q url.Values) (since, until time.Time, err error) {
	for name, into := range map[string]*time.Time{"since": &since, "until": &until} {
		if raw := q.Get(name); raw != "" {
			t, err := parseTime(raw)
			if err != nil {
				return time.Time{}, time.Time{}, countersign.Errorf(countersign.CodeBadRequest, "%s: %v", name, err)
			}
			*into = t
		}
	}
	return since, until, nil
}
