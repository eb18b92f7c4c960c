package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// Key is one named AES-256 key of a keyring.
type Key struct {
	// ID names the key in every payload it encrypts, so that decoding finds
	// it again after rotation. It is not secret.
	ID string
	// Secret is the key itself, KeySize bytes.
	Secret []byte
}

var keyID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Keyring holds the keys payloads are encrypted and decrypted with. The
// first key encrypts; every key decrypts the payloads that name it.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// NewKeyring checks keys and makes a keyring of them; the first encrypts.
// Errors name the key at fault, never show its secret.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("a keyring needs at least one key")
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, key := range keys {
		if !keyID.MatchString(key.ID) {
			return nil, fmt.Errorf("encryption key ID %q: use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit", key.ID)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("encryption key %q is in the keyring twice", key.ID)
		}
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("encryption key %q is %d bytes, want %d (AES-256); make one with: openssl rand -base64 32", key.ID, len(key.Secret), KeySize)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", key.ID, err)
		}
		k.ids = append(k.ids, key.ID)
		k.aeads[key.ID] = aead
	}
	return k, nil
}

// ParseKeyring reads a keyring written as entries ID:BASE64KEY, separated by
// commas or new lines; the first entry encrypts. Blank lines and lines
// starting with # are skipped, so the same text works as an environment
// variable and as a key file. Keys are standard or URL-safe base64, padded
// or not, of 32 random bytes (openssl rand -base64 32).
func ParseKeyring(text string) (*Keyring, error) {
	var keys []Key
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			id, encoded, ok := strings.Cut(entry, ":")
			id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
			if !ok || id == "" || encoded == "" {
				return nil, fmt.Errorf("encryption key entry %d is not ID:BASE64KEY", len(keys)+1)
			}
			secret, err := decodeBase64(encoded)
			if err != nil {
				return nil, fmt.Errorf("encryption key %q is not base64: %w", id, err)
			}
			keys = append(keys, Key{ID: id, Secret: secret})
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no encryption keys: write them as ID:BASE64KEY, the first one encrypting")
	}
	return NewKeyring(keys...)
}

func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// Current is the ID of the key that encrypts.
func (k *Keyring) Current() string { return k.ids[0] }

// IDs lists the keys' IDs, the encrypting one first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts plain with the current key: a random nonce followed by the
// AES-GCM sealing, bound to aad (which must be given again to open it). It
// returns the ID of the key used.
func (k *Keyring) Seal(plain, aad []byte) (keyID string, sealed []byte, err error) {
	keyID = k.ids[0]
	aead := k.aeads[keyID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("encrypt: %w", err)
	}
	return keyID, aead.Seal(nonce, nonce, plain, aad), nil
}

// Open decrypts what Seal made with the named key and the same aad. what
// names the thing for errors ("payload", "document d1").
func (k *Keyring) Open(what, keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%s is encrypted with key %q, which is not in the keyring (keys: %s)", what, keyID, strings.Join(k.ids, ", "))
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%s encrypted with key %q is truncated (%d bytes)", what, keyID, len(sealed))
	}
	nonce, body := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, body, aad)
	if err != nil {
		return nil, fmt.Errorf("%s encrypted with key %q does not decrypt (altered, or another key under the same ID): %w", what, keyID, err)
	}
	return plain, nil
}
