package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testSlackUsers: a link round-trips with its groups and time, linking the
// same rights again keeps the first link, linking other rights replaces
// it, and an unlinked account is not found.
func testSlackUsers(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.SlackUser(ctx, "U0NOBODY"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("SlackUser(unknown) = %v, want not found", err)
	}
	rita := &countersign.SlackUser{
		SlackUserID: "U024BE7LH", User: "rita", Role: countersign.RoleReviewer, Groups: []string{"contracts", "ünïcödé"},
		LinkedBy: "admin", LinkedAt: t0.Add(123 * time.Microsecond),
	}
	sam := &countersign.SlackUser{SlackUserID: "U01SAM", User: "sam", Role: countersign.RoleApprover, LinkedBy: "admin", LinkedAt: t0}
	for _, u := range []*countersign.SlackUser{rita, sam} {
		if changed, err := s.LinkSlackUser(ctx, u); err != nil || !changed {
			t.Fatalf("LinkSlackUser(%s) = %v, %v; want changed", u.SlackUserID, changed, err)
		}
	}
	got, err := s.SlackUser(ctx, rita.SlackUserID)
	if err != nil || !reflect.DeepEqual(got, rita) {
		t.Fatalf("SlackUser = %+v, %v; want %+v", got, err, rita)
	}

	again := *rita
	again.LinkedBy, again.LinkedAt = "other-admin", t0.Add(time.Hour)
	if changed, err := s.LinkSlackUser(ctx, &again); err != nil || changed {
		t.Fatalf("linking the same rights again = %v, %v; want unchanged", changed, err)
	}
	if got, _ := s.SlackUser(ctx, rita.SlackUserID); got.LinkedBy != "admin" || !got.LinkedAt.Equal(rita.LinkedAt) {
		t.Fatalf("after the same link again: %+v, want the first link kept", got)
	}

	promoted := *rita
	promoted.Role, promoted.Groups, promoted.LinkedAt = countersign.RoleApprover, nil, t0.Add(2*time.Hour)
	if changed, err := s.LinkSlackUser(ctx, &promoted); err != nil || !changed {
		t.Fatalf("linking other rights = %v, %v; want changed", changed, err)
	}
	if got, _ := s.SlackUser(ctx, rita.SlackUserID); !reflect.DeepEqual(got, &promoted) {
		t.Fatalf("after relinking: %+v, want %+v", got, &promoted)
	}

	all, err := s.SlackUsers(ctx)
	if err != nil || len(all) != 2 || all[0].SlackUserID != "U01SAM" || all[1].SlackUserID != "U024BE7LH" {
		t.Fatalf("SlackUsers = %+v, %v; want sam then rita, by ID", all, err)
	}

	removed, err := s.UnlinkSlackUser(ctx, rita.SlackUserID)
	if err != nil || !reflect.DeepEqual(removed, &promoted) {
		t.Fatalf("UnlinkSlackUser = %+v, %v; want the link as it was", removed, err)
	}
	if _, err := s.SlackUser(ctx, rita.SlackUserID); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("SlackUser after unlinking = %v, want not found", err)
	}
	if _, err := s.UnlinkSlackUser(ctx, rita.SlackUserID); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("unlinking twice = %v, want not found", err)
	}
}

// testSlackRequests: a request key is fresh once, seen again until its
// record expires, and fresh again after; expired records are removed.
func testSlackRequests(t *testing.T, h Harness, s countersign.Store) {
	ctx := context.Background()
	window := 5 * time.Minute
	remember := func(key string, now, expires time.Time) bool {
		t.Helper()
		fresh, err := s.RememberSlackRequest(ctx, key, now, expires)
		if err != nil {
			t.Fatalf("RememberSlackRequest(%s): %v", key, err)
		}
		return fresh
	}
	if !remember("k1", t0, t0.Add(window)) {
		t.Fatal("a new key is not fresh")
	}
	if remember("k1", t0.Add(window-time.Second), t0.Add(2*window)) {
		t.Fatal("the same key within its expiry is fresh: a replay would be accepted")
	}
	if !remember("k2", t0, t0.Add(window)) {
		t.Fatal("another key is not fresh")
	}
	// At its expiry the record no longer counts: the signature's timestamp
	// check refuses such a request by then.
	if !remember("k1", t0.Add(window), t0.Add(2*window)) {
		t.Fatal("a key whose record expired is not fresh")
	}
	if remember("k1", t0.Add(window+time.Second), t0.Add(3*window)) {
		t.Fatal("the key remembered again is fresh")
	}
	// Expired records go: a record put in behind the store's back, expired
	// long ago, is gone once a request is remembered, so the same row can be
	// inserted again.
	stale := `INSERT INTO slack_requests (request_key, expires_at) VALUES ('stale', '2000-01-01T00:00:00.000000Z')`
	h.Exec(t, s, stale)
	remember("k3", t0, t0.Add(window))
	h.Exec(t, s, stale)
}

// testSlackRequestsConcurrent: of callers remembering one key at once, as
// replicas receiving the same replayed request would, exactly one is fresh.
func testSlackRequestsConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const callers, keys = 8, 5
	var (
		mu    sync.Mutex
		fresh = map[string]int{}
		wg    sync.WaitGroup
	)
	errs := make(chan error, callers*keys)
	for range callers {
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprintf("key-%d", k)
				ok, err := s.RememberSlackRequest(ctx, key, t0, t0.Add(5*time.Minute))
				if err != nil {
					errs <- err
					continue
				}
				if ok {
					mu.Lock()
					fresh[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k := range keys {
		if n := fresh[fmt.Sprintf("key-%d", k)]; n != 1 {
			t.Errorf("key-%d was fresh for %d of %d callers, want exactly 1", k, n, callers)
		}
	}
}
