package provenance

import (
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/countersign/countersign/internal/audit"
)

// ParsePublicKeys reads one or more PEM "PUBLIC KEY" blocks (Ed25519,
// PKIX), as `countersign keygen` or `openssl pkey -pubout` write them. Text
// between blocks is ignored; a block that is not an Ed25519 public key is
// an error naming its position.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for i := 1; ; i++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		key, err := audit.ParsePublicKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", i, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New(`no PEM "PUBLIC KEY" block`)
	}
	return keys, nil
}

// Dev key files, in a dev data dir.
const (
	DevKeyFile       = "decision.key"
	DevPublicKeyFile = "decision.key.pub"
)

// EnsureDevKey returns the signing key kept in dir, making it (DevKeyFile,
// 0600, and DevPublicKeyFile beside it) on first use.
func EnsureDevKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, DevKeyFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := audit.ParsePrivateKey(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return key, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	key, err := audit.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := WriteKeyPair(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// WriteKeyPair writes key to path (0600, never over an existing file) and
// its public key to path + ".pub".
func WriteKeyPair(path string, key ed25519.PrivateKey) error {
	private, err := audit.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	public, err := audit.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(private); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(path+".pub", public, 0o644)
}
