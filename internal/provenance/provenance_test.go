package provenance_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
)

// TestDigestIsTheSameOnBothSides: the API holds fields as parsed from HTTP
// (with json.Number where a decoder kept numbers exact), the validator as
// decoded from a Temporal payload (float64); equal content digests equally,
// and any change of content changes the digest.
func TestDigestIsTheSameOnBothSides(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"term_months": 12, "party_a": "Acme", "rate": 1.50, "tags": ["a", "b"]}`))
	dec.UseNumber()
	var fromHTTP map[string]any
	if err := dec.Decode(&fromHTTP); err != nil {
		t.Fatal(err)
	}
	fromPayload := map[string]any{"tags": []any{"a", "b"}, "rate": 1.5, "party_a": "Acme", "term_months": float64(12)}
	a, err := provenance.Digest(fromHTTP)
	if err != nil {
		t.Fatal(err)
	}
	b, err := provenance.Digest(fromPayload)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("digests differ: %s vs %s", a, b)
	}
	fromPayload["term_months"] = float64(13)
	if c, _ := provenance.Digest(fromPayload); c == a {
		t.Fatal("a changed value digests the same")
	}
}

func TestVerify(t *testing.T) {
	key, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := provenance.NewSigner(key)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	claims := provenance.Claims{
		Update: "decision", UpdateID: "u1", WorkflowID: "review/d1", Subject: "d1-r1", Action: "approve", Digest: "abc",
		Actor: countersign.Principal{User: "rita", Role: countersign.RoleReviewer, Groups: []string{"legal"}}, Channel: countersign.ChannelAPI,
		IssuedAt: now,
	}
	env, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	v := provenance.NewVerifier(signer.Public())
	if err := v.Verify(env, claims, now.Add(provenance.Lifetime)); err != nil {
		t.Fatalf("a fresh envelope at the end of its lifetime: %v", err)
	}
	if err := v.Verify(env, claims, now.Add(provenance.Lifetime+time.Second)); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("a second past its lifetime: %v", err)
	}
	if err := v.Verify(env, claims, now.Add(-provenance.Skew-time.Second)); err == nil || !strings.Contains(err.Error(), "in the future") {
		t.Fatalf("issued past the skew ahead: %v", err)
	}
	// Groups in another order are other groups: the signer signs them as
	// the caller's token has them, and the validator sees the same list.
	other := claims
	other.Actor.Groups = nil
	if err := v.Verify(env, other, now); err == nil || !strings.Contains(err.Error(), "groups") {
		t.Fatalf("other groups: %v", err)
	}
	if err := v.Verify(nil, claims, now); err != provenance.ErrMissing {
		t.Fatalf("no envelope: %v", err)
	}
	// A signature over the same bytes without the context prefix (such as
	// a raw Ed25519 signature made for another purpose) does not verify.
	forged := *env
	forged.Signature = append([]byte(nil), env.Signature...)
	forged.Signature[10] ^= 0x80
	if err := v.Verify(&forged, claims, now); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("altered signature: %v", err)
	}
	if err := provenance.NewVerifier().Verify(env, claims, now); err == nil || !strings.Contains(err.Error(), "does not trust") {
		t.Fatalf("no keys: %v", err)
	}
}

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	key, err := provenance.EnsureDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := provenance.EnsureDevKey(dir)
	if err != nil || !bytes.Equal(key, again) {
		t.Fatalf("the dev key changed on the second start: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, provenance.DevKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("dev key file: %v, mode %v", err, info.Mode())
	}
	other, _ := audit.GenerateKey()
	pubs := filepath.Join(dir, "rotation.pub")
	a, _ := os.ReadFile(filepath.Join(dir, provenance.DevPublicKeyFile))
	b, _ := audit.MarshalPublicKey(other.Public().(ed25519.PublicKey))
	if err := os.WriteFile(pubs, append(append(a, []byte("# the new key\n")...), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(pubs)
	keys, err := provenance.ParsePublicKeys(raw)
	if err != nil || len(keys) != 2 {
		t.Fatalf("two keys in one file: %d, %v", len(keys), err)
	}
	if _, err := provenance.ParsePublicKeys([]byte("not a key")); err == nil {
		t.Fatal("a file without keys was read")
	}
	if err := provenance.WriteKeyPair(filepath.Join(dir, provenance.DevKeyFile), other); err == nil {
		t.Fatal("WriteKeyPair overwrote a key")
	}
}
