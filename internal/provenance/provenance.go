// Package provenance signs and verifies what carries a person into a
// workflow: a decision on a review, an audit, a veto, a policy reset. The
// authenticating edge (the API role: REST, the web page, Slack, the CLI
// through the API) signs an envelope of claims with an Ed25519 key only it
// holds; the workflow's update validator verifies it with the public keys
// the worker holds, and refuses, before anything enters history, an update
// whose envelope is missing, forged, stale, bound to another workflow,
// review or update, or whose content differs from what was signed.
//
// Whoever can reach the Temporal frontend can send an update to a workflow;
// without the API role's private key they cannot make one a validator
// accepts. Workers hold only public keys, so a worker cannot mint decisions
// either.
package provenance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// Version is the version of the claims' encoding.
const Version = 1

// signingContext is prefixed to the claims before signing, so a signature
// made here can never pass for a signature of anything else made with the
// same key (an audit checkpoint, say).
const signingContext = "countersign decision provenance v1\n"

// Lifetime bounds the age of an envelope a validator accepts, and Skew how
// far in the future its issue time may be (clocks of the API and worker
// hosts differ a little). An update reaches its validator within seconds of
// being signed; one held back longer is refused as stale, which also bounds
// how long a copied envelope could be replayed.
const (
	Lifetime = 5 * time.Minute
	Skew     = time.Minute
)

// Claims are what the signing edge vouches for: who, through which channel,
// did what to which workflow, in which update, and when.
type Claims struct {
	V int `json:"v"`
	// Update is the update's name (decision, veto, reset); UpdateID its ID,
	// which Temporal deduplicates by.
	Update   string `json:"update"`
	UpdateID string `json:"update_id"`
	// WorkflowID is the workflow the update is for; Subject what in it: a
	// review ID for a decision, a document ID for a veto, a task type for
	// a reset.
	WorkflowID string `json:"workflow_id"`
	Subject    string `json:"subject"`
	Action     string `json:"action,omitempty"`
	// Digest is Digest of the update's content: the fields, reason and
	// whatever else the person chose.
	Digest   string                `json:"digest"`
	Actor    countersign.Principal `json:"actor"`
	Channel  countersign.Channel   `json:"channel"`
	IssuedAt time.Time             `json:"issued_at"`
}

// Envelope is signed Claims: the exact bytes signed, the signature, and the
// ID of the key that made it (audit.KeyID of its public key), so that
// workers can hold several keys while the API's is rotated.
type Envelope struct {
	KeyID     string `json:"key_id"`
	Claims    []byte `json:"claims"`
	Signature []byte `json:"signature"`
}

// Digest is the hex SHA-256 of content's canonical JSON: encoded, decoded
// into plain JSON values and encoded again, so that the signer (which holds
// the request as parsed from HTTP) and the validator (which holds it as
// decoded from a Temporal payload) compute the same digest of the same
// content.
func Digest(content any) (string, error) {
	raw, err := json.Marshal(content)
	if err != nil {
		return "", err
	}
	var plain any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&plain); err != nil {
		return "", err
	}
	canonical, err := json.Marshal(plain)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// Signer signs envelopes with the API role's private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner signs with key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: audit.KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID is the ID of the signing key.
func (s *Signer) KeyID() string { return s.id }

// Public is the public key that verifies the signer's envelopes.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign makes the envelope of c, stamping the encoding's version.
func (s *Signer) Sign(c Claims) (*Envelope, error) {
	c.V = Version
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return &Envelope{KeyID: s.id, Claims: raw, Signature: ed25519.Sign(s.key, signed(raw))}, nil
}

func signed(claims []byte) []byte {
	return append([]byte(signingContext), claims...)
}

// Verifier holds the public keys, by key ID, that workers accept envelopes
// from.
type Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewVerifier accepts envelopes signed by any of keys.
func NewVerifier(keys ...ed25519.PublicKey) *Verifier {
	v := &Verifier{keys: map[string]ed25519.PublicKey{}}
	for _, k := range keys {
		v.keys[audit.KeyID(k)] = k
	}
	return v
}

// KeyIDs lists the IDs of the keys v accepts, sorted.
func (v *Verifier) KeyIDs() []string {
	ids := make([]string, 0, len(v.keys))
	for id := range v.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ErrMissing is the refusal of an update that carries no envelope.
var ErrMissing = errors.New("it carries no signed envelope from countersign's API, so who made it cannot be verified")

// Verify checks that e was signed by one of v's keys, was issued within
// Lifetime (and Skew) of now, and claims exactly want, whose IssuedAt and V
// it ignores. The error says what does not hold; it never says how to make
// an envelope pass.
func (v *Verifier) Verify(e *Envelope, want Claims, now time.Time) error {
	if e == nil {
		return ErrMissing
	}
	key, ok := v.keys[e.KeyID]
	if !ok {
		return fmt.Errorf("its envelope is signed with key %q, which this worker does not trust", e.KeyID)
	}
	if !ed25519.Verify(key, signed(e.Claims), e.Signature) {
		return errors.New("its envelope's signature does not verify: the envelope was forged or altered")
	}
	var got Claims
	if err := json.Unmarshal(e.Claims, &got); err != nil {
		return fmt.Errorf("its envelope's claims cannot be read: %v", err)
	}
	if got.V != Version {
		return fmt.Errorf("its envelope is of version %d; this worker reads version %d", got.V, Version)
	}
	switch age := now.Sub(got.IssuedAt); {
	case age > Lifetime:
		return fmt.Errorf("its envelope was issued at %s, %s ago: it is stale (the limit is %s); send the request again", got.IssuedAt.UTC().Format(time.RFC3339), age.Round(time.Second), Lifetime)
	case age < -Skew:
		return fmt.Errorf("its envelope was issued at %s, in the future", got.IssuedAt.UTC().Format(time.RFC3339))
	}
	return mismatch(got, want)
}

// mismatch names the first claim of got that differs from want.
func mismatch(got, want Claims) error {
	differs := func(what, signedValue, sent string) error {
		return fmt.Errorf("its envelope was signed for %s %q, but the update carries %q", what, signedValue, sent)
	}
	switch {
	case got.Update != want.Update:
		return differs("the update", got.Update, want.Update)
	case got.UpdateID != want.UpdateID:
		return differs("the update ID", got.UpdateID, want.UpdateID)
	case got.WorkflowID != want.WorkflowID:
		return differs("the workflow", got.WorkflowID, want.WorkflowID)
	case got.Subject != want.Subject:
		return differs("the subject", got.Subject, want.Subject)
	case got.Action != want.Action:
		return differs("the action", got.Action, want.Action)
	case got.Digest != want.Digest:
		return errors.New("its content (fields, reason) differs from what its envelope was signed for")
	case got.Actor.User != want.Actor.User:
		return differs("the user", got.Actor.User, want.Actor.User)
	case got.Actor.Role != want.Actor.Role:
		return differs("the role", string(got.Actor.Role), string(want.Actor.Role))
	case !slices.Equal(got.Actor.Groups, want.Actor.Groups):
		return fmt.Errorf("its envelope was signed for the groups %q, but the update carries %q", got.Actor.Groups, want.Actor.Groups)
	case got.Channel != want.Channel:
		return differs("the channel", string(got.Channel), string(want.Channel))
	}
	return nil
}
