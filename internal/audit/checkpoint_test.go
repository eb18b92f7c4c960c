package audit_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// chain seals n events, their data from the given function.
func chain(n int, data func(i int) string) []countersign.AuditEvent {
	var events []countersign.AuditEvent
	var head *countersign.AuditEvent
	for i := range n {
		e := countersign.AuditEvent{ID: fmt.Sprintf("ev-%d", i+1), Type: "t", At: time.Unix(int64(i), 0), Data: json.RawMessage(data(i))}
		audit.Seal(&e, head)
		events = append(events, e)
		head = &events[len(events)-1]
	}
	return events
}

func original(i int) string { return fmt.Sprintf(`{"n":%d}`, i+1) }

func verify(events []countersign.AuditEvent, checkpoints ...countersign.ChainPoint) countersign.ChainReport {
	v := audit.NewVerifier(checkpoints...)
	for _, e := range events {
		v.Add(e)
	}
	return v.Finish()
}

func point(e countersign.AuditEvent) countersign.ChainPoint {
	return countersign.ChainPoint{Seq: e.Seq, Hash: e.Hash}
}

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize)))
}

// TestCheckpointSignatureEncoding checks the signature covers exactly the
// encoding the Checkpoint doc describes, so that an auditor can check a
// checkpoint with any Ed25519 tool.
func TestCheckpointSignatureEncoding(t *testing.T) {
	key := testKey(0)
	at := time.Date(2026, 3, 14, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	head := strings.Repeat("ab", 32)
	c, err := audit.Sign(key, countersign.ChainPoint{Seq: 42, Hash: head}, at)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	msg := "25:countersign-checkpoint-v1" + "2:42" + "64:" + head + "27:2026-03-14T09:00:00.123456Z" + "32:" + c.KeyID
	sig, _ := base64.StdEncoding.DecodeString(c.Signature)
	if !ed25519.Verify(pub, []byte(msg), sig) {
		t.Fatalf("the signature does not cover the documented encoding %q", msg)
	}
	if c.PublicKey != base64.StdEncoding.EncodeToString(pub) || len(c.KeyID) != 32 || c.KeyID != audit.KeyID(pub) {
		t.Fatalf("key fields = %q, %q", c.PublicKey, c.KeyID)
	}
}

func TestCheckpointVerify(t *testing.T) {
	key, other := testKey(0), testKey(1)
	pub, otherPub := key.Public().(ed25519.PublicKey), other.Public().(ed25519.PublicKey)
	events := chain(5, original)
	signed, err := audit.Sign(key, point(events[4]), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(signed)
	if err != nil {
		t.Fatal(err)
	}
	var c audit.Checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(pub); err != nil {
		t.Fatalf("a good checkpoint, read back from JSON, against its key: %v", err)
	}
	if err := c.Verify(nil); err != nil {
		t.Fatalf("a good checkpoint, no key pinned: %v", err)
	}
	if c.Point() != point(events[4]) {
		t.Fatalf("point = %+v, want %+v", c.Point(), point(events[4]))
	}

	tampered := map[string]func(c *audit.Checkpoint){
		"seq moved back":  func(c *audit.Checkpoint) { c.Seq = 3 },
		"head replaced":   func(c *audit.Checkpoint) { c.Head = events[2].Hash },
		"time changed":    func(c *audit.Checkpoint) { c.At = c.At.Add(time.Hour) },
		"signature byte":  func(c *audit.Checkpoint) { c.Signature = flip(c.Signature) },
		"key_id replaced": func(c *audit.Checkpoint) { c.KeyID = audit.KeyID(otherPub) },
		"other public key, same signature": func(c *audit.Checkpoint) {
			c.PublicKey = base64.StdEncoding.EncodeToString(otherPub)
			c.KeyID = audit.KeyID(otherPub)
		},
	}
	for name, change := range tampered {
		bad := c
		change(&bad)
		if err := bad.Verify(nil); !errors.Is(err, audit.ErrBadSignature) {
			t.Errorf("%s, no key pinned: %v, want a bad signature", name, err)
		}
	}

	fromOther, err := audit.Sign(other, point(events[4]), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := fromOther.Verify(pub); !errors.Is(err, audit.ErrUntrustedKey) || !strings.Contains(err.Error(), fromOther.KeyID) {
		t.Fatalf("a checkpoint signed by another key: %v, want untrusted key %s", err, fromOther.KeyID)
	}
	if err := fromOther.Verify(otherPub); err != nil {
		t.Fatalf("the same checkpoint against its own key: %v", err)
	}

	wrongVersion := c
	wrongVersion.Version = "countersign-checkpoint-v0"
	if err := wrongVersion.Verify(pub); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("unknown version: %v", err)
	}
}

// flip changes one bit of a base64 value.
func flip(b64 string) string {
	raw, _ := base64.StdEncoding.DecodeString(b64)
	raw[len(raw)/2] ^= 1
	return base64.StdEncoding.EncodeToString(raw)
}

func TestSignRefusesPointsNoChainHas(t *testing.T) {
	for _, p := range []countersign.ChainPoint{
		{Seq: 0, Hash: audit.Genesis},
		{Seq: 1, Hash: "abc"},
		{Seq: 1, Hash: strings.Repeat("AB", 32)},
		{Seq: 1, Hash: strings.Repeat("zz", 32)},
	} {
		if _, err := audit.Sign(testKey(0), p, time.Now()); !errors.Is(err, countersign.ErrInvalid) {
			t.Errorf("Sign(%+v) = %v, want invalid", p, err)
		}
	}
}

func TestVerifyHoldsToCheckpoints(t *testing.T) {
	events := chain(6, original)
	// An attacker changed event 3 and recomputed every hash from there on:
	// the chain links, and only a checkpoint can tell.
	rewritten := chain(6, func(i int) string {
		if i == 2 {
			return `{"n":333}`
		}
		return original(i)
	})
	if r := verify(rewritten); !r.OK {
		t.Fatalf("a rewritten, recomputed chain should link: %+v", r)
	}

	cases := []struct {
		name        string
		events      []countersign.AuditEvent
		checkpoints []countersign.ChainPoint
		ok          bool
		brokenSeq   int64
		reason      string
		verified    int64
	}{
		{name: "checkpoint at the head", events: events, checkpoints: []countersign.ChainPoint{point(events[5])}, ok: true, verified: 6},
		{name: "more events after the checkpoint", events: events, checkpoints: []countersign.ChainPoint{point(events[3])}, ok: true, verified: 6},
		{name: "two checkpoints, out of order", events: events, checkpoints: []countersign.ChainPoint{point(events[4]), point(events[1])}, ok: true, verified: 6},
		{
			name: "rewritten before the checkpoint", events: rewritten, checkpoints: []countersign.ChainPoint{point(events[3])},
			brokenSeq: 4, reason: "events 1 to 4 were rewritten", verified: 0,
		},
		{
			name: "rewritten between two checkpoints", events: rewritten, checkpoints: []countersign.ChainPoint{point(events[1]), point(events[4])},
			brokenSeq: 5, reason: "events 3 to 5 were rewritten", verified: 2,
		},
		{
			name: "rewritten after the checkpoint", events: rewritten, checkpoints: []countersign.ChainPoint{point(events[1])},
			ok: true, verified: 6,
		},
		{
			name: "cut short", events: events[:3], checkpoints: []countersign.ChainPoint{point(events[4])},
			brokenSeq: 4, reason: "events 4 to 5 are missing", verified: 3,
		},
		{
			name: "cut to nothing", events: nil, checkpoints: []countersign.ChainPoint{point(events[0])},
			brokenSeq: 1, reason: "events 1 to 1 are missing", verified: 0,
		},
		{
			name: "a changed event is named before the checkpoint", events: changed(events, 1), checkpoints: []countersign.ChainPoint{point(events[4])},
			brokenSeq: 2, reason: "the event was changed", verified: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := verify(tc.events, tc.checkpoints...)
			if len(r.Checkpoints) != len(tc.checkpoints) {
				t.Errorf("report names checkpoints %+v, want %+v", r.Checkpoints, tc.checkpoints)
			}
			if r.OK != tc.ok || r.Events != tc.verified {
				t.Fatalf("report = %+v, want ok %v with %d events verified", r, tc.ok, tc.verified)
			}
			if tc.ok {
				return
			}
			if r.Broken == nil || r.Broken.Seq != tc.brokenSeq || !strings.Contains(r.Broken.Reason, tc.reason) {
				t.Fatalf("broken = %+v, want seq %d with %q", r.Broken, tc.brokenSeq, tc.reason)
			}
		})
	}
}

func changed(events []countersign.AuditEvent, i int) []countersign.AuditEvent {
	out := append([]countersign.AuditEvent(nil), events...)
	out[i].Actor = "mallory"
	return out
}

func TestPoints(t *testing.T) {
	p := countersign.ChainPoint{Seq: 12, Hash: strings.Repeat("0f", 32)}
	got, err := audit.ParsePoint(audit.FormatPoint(p))
	if err != nil || got != p {
		t.Fatalf("ParsePoint(FormatPoint(%+v)) = %+v, %v", p, got, err)
	}
	for _, s := range []string{"", "12", "x:" + p.Hash, "0:" + p.Hash, "12:" + p.Hash[1:], "12:" + strings.ToUpper(p.Hash)} {
		if _, err := audit.ParsePoint(s); !errors.Is(err, countersign.ErrBadRequest) {
			t.Errorf("ParsePoint(%q) = %v, want a bad request", s, err)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	key, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	private, err := audit.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	public, err := audit.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	readKey, err := audit.ParsePrivateKey(private)
	if err != nil || !readKey.Equal(key) {
		t.Fatalf("private key read back: %v", err)
	}
	readPub, err := audit.ParsePublicKey(public)
	if err != nil || !readPub.Equal(key.Public()) {
		t.Fatalf("public key read back: %v", err)
	}
	if _, err := audit.ParsePrivateKey(public); err == nil {
		t.Fatal("a public key was read as a signing key")
	}
	if _, err := audit.ParsePublicKey(private); err == nil {
		t.Fatal("a signing key was read as a public key")
	}
}
