package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// TestHashIsStable pins the hash of a known event. If this fails, the
// encoding changed and every stored chain would stop verifying: change the
// encoding's version string instead, and verify old events the old way.
func TestHashIsStable(t *testing.T) {
	e := countersign.AuditEvent{
		Seq:        7,
		ID:         "review/abc/3",
		DocumentID: "abc",
		Type:       countersign.EventDecisionRecorded,
		Actor:      "rita",
		Channel:    countersign.ChannelAPI,
		At:         time.Date(2025, 3, 1, 12, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		Data:       json.RawMessage(`{"action":"approve"}`),
		PrevHash:   audit.Genesis,
		TraceID:    "4bf92f3577b34da6a3ce929d0e0e4736",
	}
	// Computed independently, in Python, from the encoding in the package doc.
	const want = "6330040d6718a930d7e1763ff94f39cb8748b366a5d0da5d173b4a6da7924a33"
	got := audit.Hash(e)
	if got != want {
		t.Fatalf("hash = %s, want %s", got, want)
	}
}

func TestCanonical(t *testing.T) {
	raw, err := audit.Canonical(map[string]any{"z": 1, "a": map[string]any{"y": "<&>", "b": 1.50}, "n": json.Number("12345678901234567890")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), `{"a":{"b":1.5,"y":"<&>"},"n":12345678901234567890,"z":1}`; got != want {
		t.Fatalf("canonical = %s, want %s", got, want)
	}
}

func TestSealAndVerify(t *testing.T) {
	var chain []countersign.AuditEvent
	var head *countersign.AuditEvent
	for i := range 4 {
		e := countersign.AuditEvent{ID: string(rune('a' + i)), Type: "t", At: time.Unix(int64(i), 999), Data: json.RawMessage(`{}`)}
		audit.Seal(&e, head)
		chain = append(chain, e)
		head = &chain[len(chain)-1]
	}
	if chain[0].Seq != 1 || chain[0].PrevHash != audit.Genesis || chain[3].PrevHash != chain[2].Hash || chain[1].At.Nanosecond() != 0 {
		t.Fatalf("chain = %+v", chain)
	}
	v := audit.NewVerifier()
	for _, e := range chain {
		if !v.Add(e) {
			t.Fatalf("event %d does not verify: %+v", e.Seq, v.Report())
		}
	}
	if r := v.Report(); !r.OK || r.Events != 4 || r.Head != chain[3].Hash {
		t.Fatalf("report = %+v", r)
	}

	changed := append([]countersign.AuditEvent(nil), chain...)
	changed[2].Actor = "mallory"
	v = audit.NewVerifier()
	for _, e := range changed {
		v.Add(e)
	}
	if r := v.Report(); r.OK || r.Broken.Seq != 3 || r.Events != 2 {
		t.Fatalf("changed actor: %+v", r)
	}
	if v.Add(chain[3]) {
		t.Fatal("a broken verifier accepted more events")
	}
}
