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

func newCertificate(taskType string, threshold float64) *countersign.Certificate {
	return &countersign.Certificate{
		TaskType:      taskType,
		Calibration:   "cal-1a2b",
		PolicyVersion: "9f8e7d",
		Budget:        0.01,
		Level:         0.95,
		Threshold:     threshold,
		Bound:         0.0099,
		Accepted:      301,
		Wrong:         0,
		Documents:     412,
		ReviewShare:   0.2694,
		Tested:        37,
		Since:         t0.Add(-48*time.Hour + 700*time.Nanosecond),
		Until:         t0.Add(-time.Hour),
		CreatedAt:     t0.Add(300 * time.Nanosecond),
		CreatedBy:     "alice",
	}
}

func testCertificates(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.Certificate(ctx, "contract-review/c1"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("Certificate before any: %v, want not found", err)
	}
	if list, err := s.Certificates(ctx, "contract-review"); err != nil || len(list) != 0 {
		t.Fatalf("Certificates before any = %v, %v; want none", list, err)
	}
	first := newCertificate("contract-review", 0.9953)
	if err := s.PutCertificate(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID != "contract-review/c1" || first.Number != 1 {
		t.Fatalf("first certificate numbered %s (%d), want contract-review/c1", first.ID, first.Number)
	}
	// Kept to the microsecond, as every stored time.
	want := *newCertificate("contract-review", 0.9953)
	want.ID, want.Number = "contract-review/c1", 1
	want.Since, want.CreatedAt = t0.Add(-48*time.Hour), t0
	got, err := s.Certificate(ctx, "contract-review/c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("stored certificate\n got %+v\nwant %+v", got, &want)
	}
	if err := s.PutCertificate(ctx, newCertificate("other-type", 0.9)); err != nil {
		t.Fatal(err)
	}
	second := newCertificate("contract-review", 0.999)
	if err := s.PutCertificate(ctx, second); err != nil {
		t.Fatal(err)
	}
	if second.ID != "contract-review/c2" {
		t.Fatalf("second certificate of the task type numbered %s, want contract-review/c2 (another task type counts apart)", second.ID)
	}
	list, err := s.Certificates(ctx, "contract-review")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "contract-review/c2" || list[1].ID != "contract-review/c1" || list[0].Threshold != 0.999 {
		t.Fatalf("Certificates = %+v, want c2 (0.999) then c1", list)
	}
}

func testPolicyVersions(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const taskType = "contract-review"
	inForce := func() *countersign.PolicyVersion {
		t.Helper()
		v, err := s.PolicyInForce(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := inForce(); v != nil {
		t.Fatalf("PolicyInForce before any = %+v, want none", v)
	}
	if _, err := s.PolicyVersion(ctx, taskType+"/v1"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("PolicyVersion before any: %v, want not found", err)
	}
	threshold, rate := 0.9953, 0.1
	first := &countersign.PolicyVersion{
		TaskType: taskType, Mode: countersign.ModeHOTL, Threshold: &threshold, AuditSampleRate: &rate,
		Certificate: taskType + "/c1", Reason: "certified at 1%", CreatedBy: "alice", CreatedAt: t0.Add(400 * time.Nanosecond),
	}
	if err := s.PutPolicyVersion(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID != taskType+"/v1" || first.Number != 1 {
		t.Fatalf("first version numbered %s (%d), want %s/v1", first.ID, first.Number, taskType)
	}
	want := *first
	want.CreatedAt = t0
	if got := inForce(); !reflect.DeepEqual(got, &want) {
		t.Fatalf("PolicyInForce\n got %+v\nwant %+v", got, &want)
	}

	// A version made from none while v1 is in force lost a race: refused.
	stale := &countersign.PolicyVersion{TaskType: taskType, Mode: countersign.ModeHITL, Reason: "x", CreatedBy: "bob", CreatedAt: t0}
	if err := s.PutPolicyVersion(ctx, stale); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("a version made from none while v1 is in force: %v, want a conflict", err)
	}
	second := &countersign.PolicyVersion{TaskType: taskType, Previous: first.ID, Mode: countersign.ModeHITL, Reason: "audits", CreatedBy: "bob", CreatedAt: t0.Add(time.Hour)}
	if err := s.PutPolicyVersion(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got := inForce(); got.ID != taskType+"/v2" || got.Previous != taskType+"/v1" || got.Threshold != nil {
		t.Fatalf("PolicyInForce after v2 = %+v", got)
	}
	if got, err := s.PolicyVersion(ctx, taskType+"/v1"); err != nil || !reflect.DeepEqual(got, &want) {
		t.Fatalf("PolicyVersion v1 = %+v, %v; want it unchanged", got, err)
	}
	if v, err := s.PolicyInForce(ctx, "other-type"); err != nil || v != nil {
		t.Fatalf("another task type's version in force = %+v, %v; want none", v, err)
	}
	list, err := s.PolicyVersions(ctx, taskType)
	if err != nil || len(list) != 2 || list[0].ID != taskType+"/v2" || list[1].ID != taskType+"/v1" {
		t.Fatalf("PolicyVersions = %+v, %v; want v2 then v1", list, err)
	}
}

// testPolicyVersionsConcurrent: approvers changing a policy at once from
// the same version in force get one version stored and the others refused,
// and certificates made at once get distinct numbers.
func testPolicyVersionsConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const writers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stored  []string
		numbers = map[string]bool{}
		errs    = make(chan error, 2*writers)
	)
	for w := range writers {
		wg.Go(func() {
			v := &countersign.PolicyVersion{TaskType: "contract-review", Mode: countersign.ModeHITL, Reason: fmt.Sprint(w), CreatedBy: "alice", CreatedAt: t0}
			err := s.PutPolicyVersion(ctx, v)
			c := newCertificate("contract-review", 0.99)
			certErr := s.PutCertificate(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored = append(stored, v.ID)
			case !errors.Is(err, countersign.ErrConflict):
				errs <- err
			}
			if certErr != nil {
				errs <- certErr
			} else {
				numbers[c.ID] = true
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] != "contract-review/v1" {
		t.Fatalf("versions stored from none at once: %v, want exactly contract-review/v1", stored)
	}
	if len(numbers) != writers {
		t.Fatalf("%d certificates made at once got %d distinct IDs: %v", writers, len(numbers), numbers)
	}
	if list, err := s.Certificates(ctx, "contract-review"); err != nil || len(list) != writers || list[0].Number != writers {
		t.Fatalf("Certificates = %d, %v; want %d numbered 1 to %d", len(list), err, writers, writers)
	}
}
