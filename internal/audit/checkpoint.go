package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// CheckpointVersion names the checkpoint format; it is also the first part
// of what a checkpoint's signature covers.
const CheckpointVersion = "countersign-checkpoint-v1"

// Checkpoint is a signed statement that the audit chain had Seq events, the
// last with hash Head, at time At. Kept out of reach of whoever could rewrite
// the database, it detects what the chain alone cannot: events up to Seq
// rewritten with every hash after them recomputed, or events cut from the
// end. Verify the signature with Verify, then hold the chain to Point().
//
// The signature is Ed25519, in base64, over the same length-prefixed
// encoding as event hashes (see the package doc) of:
//
//	version, seq (decimal), head, at (RFC 3339 UTC with microseconds), key_id
//
// key_id is the hex of the first 16 bytes of the SHA-256 of the 32-byte
// public key; public_key is that key, in base64.
type Checkpoint struct {
	Version   string    `json:"version"`
	Seq       int64     `json:"seq"`
	Head      string    `json:"head"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	PublicKey string    `json:"public_key"`
	Signature string    `json:"signature"`
}

// Why a checkpoint is refused; errors wrap one of them.
var (
	// ErrBadSignature: the checkpoint was changed after it was signed, or was
	// never signed by the key it names.
	ErrBadSignature = errors.New("checkpoint signature does not verify")
	// ErrUntrustedKey: the checkpoint was signed by another key than the
	// one trusted.
	ErrUntrustedKey = errors.New("checkpoint signed by an untrusted key")
)

// KeyID is the fingerprint that names a checkpoint key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// Sign makes a checkpoint of point p at time at.
func Sign(key ed25519.PrivateKey, p countersign.ChainPoint, at time.Time) (Checkpoint, error) {
	if err := ValidPoint(p); err != nil {
		return Checkpoint{}, err
	}
	pub := key.Public().(ed25519.PublicKey)
	c := Checkpoint{
		Version:   CheckpointVersion,
		Seq:       p.Seq,
		Head:      p.Hash,
		At:        Time(at),
		KeyID:     KeyID(pub),
		PublicKey: base64.StdEncoding.EncodeToString(pub),
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.signed()))
	return c, nil
}

// signed is what the signature covers.
func (c Checkpoint) signed() []byte {
	var b strings.Builder
	for _, part := range []string{c.Version, strconv.FormatInt(c.Seq, 10), c.Head, Time(c.At).Format(TimeLayout), c.KeyID} {
		fmt.Fprintf(&b, "%d:%s", len(part), part)
	}
	return []byte(b.String())
}

// Verify checks the checkpoint is well formed and signed by the key it
// names. With a trusted key, that key must be the one; without, any key is
// accepted, which only shows the checkpoint was not altered since someone
// signed it.
func (c Checkpoint) Verify(trusted ed25519.PublicKey) error {
	if c.Version != CheckpointVersion {
		return fmt.Errorf("not a checkpoint this version can read (version %q, want %q)", c.Version, CheckpointVersion)
	}
	if err := ValidPoint(c.Point()); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return fmt.Errorf("checkpoint public_key is not a base64 Ed25519 public key")
	}
	pub := ed25519.PublicKey(raw)
	if trusted != nil && !trusted.Equal(pub) {
		return fmt.Errorf("%w %s; the trusted key is %s", ErrUntrustedKey, KeyID(pub), KeyID(trusted))
	}
	if c.KeyID != KeyID(pub) {
		return fmt.Errorf("%w: key_id %s does not name the key %s", ErrBadSignature, c.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.signed(), sig) {
		return fmt.Errorf("%w: the checkpoint was changed after key %s signed it, or that key never signed it", ErrBadSignature, c.KeyID)
	}
	return nil
}

// Point is the place in the chain the checkpoint vouches for.
func (c Checkpoint) Point() countersign.ChainPoint {
	return countersign.ChainPoint{Seq: c.Seq, Hash: c.Head}
}

// ValidPoint checks p could be in a chain: an event (from 1) and a hex
// SHA-256.
func ValidPoint(p countersign.ChainPoint) error {
	if problem := pointProblem(p); problem != "" {
		return countersign.Errorf(countersign.CodeInvalid, "checkpoint %s", problem)
	}
	return nil
}

func pointProblem(p countersign.ChainPoint) string {
	if p.Seq < 1 {
		return fmt.Sprintf("event %d: events are numbered from 1", p.Seq)
	}
	if _, err := hex.DecodeString(p.Hash); err != nil || len(p.Hash) != len(Genesis) || strings.ToLower(p.Hash) != p.Hash {
		return fmt.Sprintf("hash %q is not a lowercase hex SHA-256", p.Hash)
	}
	return ""
}

// FormatPoint writes p as SEQ:HASH, the form of the checkpoint query
// parameter of GET /v1/audit/verify.
func FormatPoint(p countersign.ChainPoint) string {
	return strconv.FormatInt(p.Seq, 10) + ":" + p.Hash
}

// ParsePoint reads a point written by FormatPoint.
func ParsePoint(s string) (countersign.ChainPoint, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil {
		return countersign.ChainPoint{}, countersign.Errorf(countersign.CodeBadRequest, "checkpoint %q is not SEQ:HASH", s)
	}
	p := countersign.ChainPoint{Seq: n, Hash: hash}
	if problem := pointProblem(p); problem != "" {
		return countersign.ChainPoint{}, countersign.Errorf(countersign.CodeBadRequest, "checkpoint %q: %s", s, problem)
	}
	return p, nil
}

// GenerateKey makes a new checkpoint signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return key, err
}

// MarshalPrivateKey writes a signing key as PEM (PKCS #8, "PRIVATE KEY"),
// the form `openssl genpkey -algorithm ed25519` writes too.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey writes a public key as PEM (PKIX, "PUBLIC KEY"), the
// form `openssl pkey -pubout` writes too.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a signing key written by MarshalPrivateKey.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New(`not a PEM "PRIVATE KEY"`)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 private key", key)
	}
	return ed, nil
}

// ParsePublicKey reads a public key written by MarshalPublicKey.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`not a PEM "PUBLIC KEY"`)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ed, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 public key", key)
	}
	return ed, nil
}
