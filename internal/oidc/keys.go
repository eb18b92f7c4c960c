package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// minRefetch bounds how often the keys are fetched, so that tokens
	// naming made-up keys cannot make countersign flood the issuer.
	minRefetch = 10 * time.Second
	// maxKeyAge is how long fetched keys are trusted before they are
	// fetched again, so that a key the issuer withdraws stops verifying.
	maxKeyAge = 10 * time.Minute
	// maxStaleKeyAge is how long keys are still trusted after they were
	// last fetched when the issuer cannot be reached for newer ones: long
	// enough to ride out an outage of the issuer, short enough that a key
	// it withdrew (say, a leaked one) stops verifying while the JWKS is
	// unreachable to countersign.
	maxStaleKeyAge = time.Hour
	// fetchTimeout bounds discovery and each fetch of the keys.
	fetchTimeout = 10 * time.Second
	// maxKeySetBytes bounds the issuer's JWKS document.
	maxKeySetBytes = 1 << 20
)

// keySet is the issuer's signing keys, fetched from its JWKS and cached. It
// fetches them again when a token names a key it does not hold (the issuer
// has rotated its keys) and when they are older than maxKeyAge, but never
// sooner than minRefetch after the last try. While the keys cannot be
// fetched, the last ones keep verifying until maxStaleKeyAge after they
// were fetched. It implements go-oidc's
// KeySet, which go-oidc's own RemoteKeySet does too, but that one refetches
// for every token with an unknown key ID and trusts a key forever.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	fetching sync.Mutex // held during a fetch, so that there is one at a time

	mu      sync.Mutex // guards the fields below
	keys    []jose.JSONWebKey
	fetched time.Time // when keys were fetched
	tried   time.Time // when a fetch was last tried, successful or not
	failed  error     // why the last fetch failed, nil when it did not
}

// VerifySignature returns the token's payload if one of the issuer's keys
// signed it.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, signingAlgs)
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("a token needs exactly one signature")
	}
	k.mu.Lock()
	keys, fetched := k.keys, k.fetched
	k.mu.Unlock()
	if k.now().Sub(fetched) < maxKeyAge {
		if payload, ok := verify(jws, keys); ok {
			return payload, nil
		}
	}
	fresh, err := k.refresh(ctx)
	if err != nil {
		// The issuer cannot be reached: its last keys still hold, unless
		// refresh found them older than maxStaleKeyAge.
		if errors.Is(err, errStaleKeys) {
			return nil, err
		}
		if payload, ok := verify(jws, keys); ok {
			return payload, nil
		}
		return nil, err
	}
	if payload, ok := verify(jws, fresh); ok {
		return payload, nil
	}
	return nil, fmt.Errorf("no key at %s verifies it (key ID %q)", k.url, jws.Signatures[0].Header.KeyID)
}

// verify returns the payload if one of keys signed it, trying the keys with
// the token's key ID (all of them when it names none) that are not meant for
// another algorithm.
func verify(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, bool) {
	header := jws.Signatures[0].Header
	for _, key := range keys {
		if header.KeyID != "" && key.KeyID != header.KeyID {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != header.Algorithm {
			continue
		}
		if payload, err := jws.Verify(&key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// errStaleKeys is why a token fails while the keys held are older than
// maxStaleKeyAge and newer ones cannot be fetched.
var errStaleKeys = errors.New("the issuer's keys could not be refreshed for over an hour")

// refresh fetches the keys, unless that was tried less than minRefetch ago,
// and returns the keys held after it. When the fetch fails (or failed less
// than minRefetch ago) and the keys held are older than maxStaleKeyAge, it
// returns an error wrapping errStaleKeys.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.fetching.Lock()
	defer k.fetching.Unlock()
	k.mu.Lock()
	keys, fetched, tried, failed := k.keys, k.fetched, k.tried, k.failed
	k.mu.Unlock()
	if !tried.IsZero() && k.now().Sub(tried) < minRefetch {
		if k.now().Sub(fetched) >= maxStaleKeyAge {
			return nil, staleKeys(failed)
		}
		return keys, nil
	}
	// The fetch serves every request waiting for it, so one caller going
	// away must not cut it short; fetchTimeout bounds it.
	fresh, err := k.fetch(context.WithoutCancel(ctx))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tried, k.failed = k.now(), err
	if err != nil {
		if k.tried.Sub(k.fetched) >= maxStaleKeyAge {
			return nil, staleKeys(err)
		}
		return nil, err
	}
	k.keys, k.fetched = fresh, k.tried
	return fresh, nil
}

// staleKeys is errStaleKeys with the last fetch's failure, when known.
func staleKeys(failed error) error {
	if failed == nil {
		return errStaleKeys
	}
	return fmt.Errorf("%w: %w", errStaleKeys, failed)
}

// fetch reads the issuer's JWKS, keeping the public signing keys go-jose
// knows and skipping the others (issuers publish encryption keys and key
// types of their own beside them).
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch keys: %w", err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch keys from %s: %s", k.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes))
	if err != nil {
		return nil, fmt.Errorf("fetch keys from %s: %w", k.url, err)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("keys at %s: not a JWKS: %w", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || key.Use == "enc" {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("keys at %s: no public signing key countersign can use", k.url)
	}
	return keys, nil
}
