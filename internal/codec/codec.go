// Package codec encrypts Temporal payloads: a converter.PayloadCodec with
// AES-256-GCM under a keyring of named keys, and the HTTP handler of a codec
// server through which Temporal's web UI and CLI decode histories for callers
// with a countersign token.
//
// An encrypted payload has metadata encoding "binary/encrypted" and
// "encryption-key-id" naming its key; its data is a random 12-byte nonce
// followed by the AES-GCM sealing of the original payload (metadata and data,
// protobuf-encoded), with the key ID as additional authenticated data.
// Payloads without that encoding are left alone when decoding, so histories
// written before encryption was turned on still read.
package codec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Metadata of an encrypted payload.
const (
	// Encoding is the value of the payload's "encoding" metadata.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key the payload is encrypted with.
	MetadataKeyID = "encryption-key-id"
)

// Codec encrypts payloads with its keyring's first key and decrypts them
// with the key each names.
type Codec struct {
	keys *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec over keys.
func New(keys *Keyring) *Codec { return &Codec{keys: keys} }

// Encode encrypts each payload with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		id, sealed, err := c.keys.Seal(plain, []byte(c.keys.Current()))
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key it names and passes
// the others through unchanged. A payload naming a key the keyring lacks, or
// that fails authentication, is an error.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		plain, err := c.open(p)
		if err != nil {
			return payloads, err
		}
		decoded := &commonpb.Payload{}
		if err := decoded.Unmarshal(plain); err != nil {
			return payloads, fmt.Errorf("decrypted payload is not a payload: %w", err)
		}
		out[i] = decoded
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) ([]byte, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	if id == "" {
		return nil, fmt.Errorf("encrypted payload names no key (metadata %q missing)", MetadataKeyID)
	}
	return c.keys.Open("payload", id, p.GetData(), []byte(id))
}
