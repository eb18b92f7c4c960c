package storetest

import (
	"context"
	"errors"
	"reflect"
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
