package slackapp

import (
	"testing"
	"time"
)

func TestReplayCacheForgetsOnlyWhatTheWindowRefuses(t *testing.T) {
	c := newReplayCache(5*time.Minute, 2)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	if got := c.add("a", now, now); got != replayFresh {
		t.Fatalf("first a: %d, want fresh", got)
	}
	if got := c.add("a", now, now.Add(4*time.Minute)); got != replaySeen {
		t.Fatalf("a again within the window: %d, want seen", got)
	}
	if got := c.add("b", now.Add(time.Minute), now.Add(time.Minute)); got != replayFresh {
		t.Fatalf("b: %d, want fresh", got)
	}
	if got := c.add("c", now.Add(2*time.Minute), now.Add(2*time.Minute)); got != replayFull {
		t.Fatalf("c with a and b live: %d, want full rather than forgetting one", got)
	}
	// Once a's timestamp is out of the window, the timestamp check refuses
	// it, so the cache may forget it and take c.
	if got := c.add("c", now.Add(2*time.Minute), now.Add(5*time.Minute)); got != replayFresh {
		t.Fatalf("c after a expired: %d, want fresh", got)
	}
	if got := c.add("b", now.Add(time.Minute), now.Add(5*time.Minute)); got != replaySeen {
		t.Fatalf("b still in its window: %d, want seen", got)
	}
}
