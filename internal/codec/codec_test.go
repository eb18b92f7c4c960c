package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func newKey(t testing.TB, id string) Key {
	t.Helper()
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Secret: secret}
}

func mustKeyring(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const secretText = "Northwind Analytics, Inc. agrees to pay 1,250,000 USD"

// payloads are what Temporal's default converter makes of a draft.
func payloads(t testing.TB) []*commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayloads(map[string]string{"party_a": secretText}, 42)
	if err != nil {
		t.Fatal(err)
	}
	return p.Payloads
}

func TestRoundTrip(t *testing.T) {
	c := New(mustKeyring(t, newKey(t, "k1")))
	plain := payloads(t)
	encoded, err := c.Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(encoded) != len(plain) {
		t.Fatalf("%d payloads encoded into %d", len(plain), len(encoded))
	}
	for i, p := range encoded {
		if got := string(p.Metadata[converter.MetadataEncoding]); got != Encoding {
			t.Errorf("payload %d encoding %q, want %q", i, got, Encoding)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("payload %d key ID %q, want k1", i, got)
		}
		if bytes.Contains(p.Data, []byte("Northwind")) || bytes.Contains(p.Data, []byte("json/plain")) {
			t.Errorf("payload %d shows its plaintext: %q", i, p.Data)
		}
	}
	again, err := c.Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again[0].Data, encoded[0].Data) {
		t.Error("the same payload encrypted twice gave the same bytes: the nonce is not fresh")
	}
	decoded, err := c.Decode(encoded)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if !plain[i].Equal(decoded[i]) {
			t.Errorf("payload %d: decoded %v, want %v", i, decoded[i], plain[i])
		}
	}

	// Through the data converter, as workers and clients use it.
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
	p, err := dc.ToPayload(map[string]string{"party_a": secretText})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p.Data), "Northwind") {
		t.Fatal("the data converter wrote plaintext")
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["party_a"] != secretText {
		t.Fatalf("FromPayload = %v, %v", back, err)
	}
}

func TestUnencryptedPayloadsPassThrough(t *testing.T) {
	c := New(mustKeyring(t, newKey(t, "k1")))
	plain := payloads(t)
	decoded, err := c.Decode(plain)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if decoded[i] != plain[i] {
			t.Errorf("payload %d was changed: %v", i, decoded[i])
		}
	}
}

func TestUnknownKeyIsNamed(t *testing.T) {
	encoded, err := New(mustKeyring(t, newKey(t, "2024-q1"))).Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(mustKeyring(t, newKey(t, "2025-q3"), newKey(t, "2025-q2"))).Decode(encoded)
	if err == nil || !strings.Contains(err.Error(), `"2024-q1"`) || !strings.Contains(err.Error(), "not in the keyring") {
		t.Fatalf("decode with a keyring lacking the key: %v, want an error naming 2024-q1", err)
	}

	// Another key under the same ID fails authentication.
	_, err = New(mustKeyring(t, newKey(t, "2024-q1"))).Decode(encoded)
	if err == nil || !strings.Contains(err.Error(), `"2024-q1"`) {
		t.Fatalf("decode with another key under the same ID: %v, want an error naming 2024-q1", err)
	}
}

func TestRotation(t *testing.T) {
	old, next := newKey(t, "old"), newKey(t, "new")
	before, err := New(mustKeyring(t, old)).Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	rotated := New(mustKeyring(t, next, old))
	after, err := rotated.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(after[0].Metadata[MetadataKeyID]); got != "new" {
		t.Fatalf("after rotation payloads are encrypted with %q, want new", got)
	}
	for name, encoded := range map[string][]*commonpb.Payload{"old": before, "new": after} {
		decoded, err := rotated.Decode(encoded)
		if err != nil {
			t.Fatalf("payloads under the %s key: %v", name, err)
		}
		if !strings.Contains(string(decoded[0].Data), "Northwind") {
			t.Fatalf("payloads under the %s key decoded to %q", name, decoded[0].Data)
		}
	}
	// Once the old key is dropped its payloads no longer read.
	if _, err := New(mustKeyring(t, next)).Decode(before); err == nil || !strings.Contains(err.Error(), `"old"`) {
		t.Fatalf("old payloads without the old key: %v, want an error naming old", err)
	}
}

func TestTamperedPayloadFails(t *testing.T) {
	c := New(mustKeyring(t, newKey(t, "k1")))
	encoded, err := c.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(change func(p *commonpb.Payload)) []*commonpb.Payload {
		p := &commonpb.Payload{Metadata: map[string][]byte{}, Data: bytes.Clone(encoded[0].Data)}
		for k, v := range encoded[0].Metadata {
			p.Metadata[k] = v
		}
		change(p)
		return []*commonpb.Payload{p}
	}
	cases := map[string][]*commonpb.Payload{
		"flipped ciphertext bit": tamper(func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 1 }),
		"flipped nonce bit":      tamper(func(p *commonpb.Payload) { p.Data[0] ^= 1 }),
		"truncated":              tamper(func(p *commonpb.Payload) { p.Data = p.Data[:10] }),
		"no key ID":              tamper(func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) }),
	}
	for name, tampered := range cases {
		if _, err := c.Decode(tampered); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	// The original still decodes: Decode did not change its input.
	if _, err := c.Decode(encoded); err != nil {
		t.Fatal(err)
	}
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	std := base64.StdEncoding.EncodeToString
	ring, err := ParseKeyring("k1:" + std(k1.Secret) + ", k2:" + base64.RawURLEncoding.EncodeToString(k2.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if ring.Current() != "k1" || strings.Join(ring.IDs(), ",") != "k1,k2" {
		t.Fatalf("keyring %v, current %s", ring.IDs(), ring.Current())
	}
	file := "# rotated 2025-06\nk2:" + std(k2.Secret) + "\n\nk1:" + std(k1.Secret) + "\n"
	if ring, err = ParseKeyring(file); err != nil || ring.Current() != "k2" {
		t.Fatalf("key file: %v, %v", ring, err)
	}

	short := std(make([]byte, 16))
	for text, want := range map[string]string{
		"":                                      "no encryption keys",
		"k1:" + short:                           `"k1" is 16 bytes, want 32`,
		"k1:" + std(k1.Secret) + ",k2:" + short: `"k2" is 16 bytes`,
		"k1:not*base64":                         `"k1" is not base64`,
		std(k1.Secret):                          "not ID:BASE64KEY",
		"k1:" + std(k1.Secret) + ",k1:" + std(k2.Secret): `"k1" is in the keyring twice`,
		"bad id:" + std(k1.Secret):                       `ID "bad id"`,
	} {
		_, err := ParseKeyring(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeyring(%.20q) = %v, want an error with %q", text, err, want)
		}
		if err != nil && strings.Contains(err.Error(), std(k1.Secret)) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}
