package config

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
)

// The environment variables that hold decision keys themselves (PEM), for
// deployments that inject secrets as variables rather than files.
const (
	EnvDecisionSigningKey = EnvPrefix + "DECISION_SIGNING_KEY"
	EnvDecisionVerifyKeys = EnvPrefix + "DECISION_VERIFY_KEYS"
)

// AddDecisionSigning adds --decision-signing-key-file, for the roles that
// serve the API: the API signs every decision, audit, veto and reset it
// sends to a workflow (see package provenance).
func (c *Config) AddDecisionSigning(fs *pflag.FlagSet) {
	fs.StringVar(&c.DecisionSigningKeyFile, "decision-signing-key-file", "", fmt.Sprintf("Ed25519 private key (PEM) with which the API signs the decisions it sends to workflows; keep it with the api role only (env %s; or the PEM itself in %s; dev: made in --data-dir)", Env("decision-signing-key-file"), EnvDecisionSigningKey))
}

// AddDecisionVerify adds --decision-verify-keys-file, for the roles that
// run workflows: their validators accept only decisions signed by one of
// these keys.
func (c *Config) AddDecisionVerify(fs *pflag.FlagSet) {
	fs.StringVar(&c.DecisionVerifyKeysFile, "decision-verify-keys-file", "", fmt.Sprintf("Ed25519 public keys (PEM, one or more blocks) whose signatures the workers accept on decisions; list the old and the new key while rotating (env %s; or the PEM itself in %s; dev: the key in --data-dir)", Env("decision-verify-keys-file"), EnvDecisionVerifyKeys))
}

// DecisionKeys reads the API's signing key when sign is set and the
// workers' verification keys when verify is set, from the files or the
// variables. A key set in both places, set but unreadable or not a key,
// stops the start with a message naming where it was set: a role never
// runs with decisions unsigned or unverified.
func (c *Config) DecisionKeys(sign, verify bool) error {
	if sign {
		raw, where, err := keySource(c.DecisionSigningKeyFile, "decision-signing-key-file", EnvDecisionSigningKey)
		if err != nil {
			return err
		}
		if raw != nil {
			key, err := audit.ParsePrivateKey(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			c.DecisionSigner = provenance.NewSigner(key)
		}
	}
	if verify {
		raw, where, err := keySource(c.DecisionVerifyKeysFile, "decision-verify-keys-file", EnvDecisionVerifyKeys)
		if err != nil {
			return err
		}
		if raw != nil {
			keys, err := provenance.ParsePublicKeys(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			c.DecisionVerifyKeys = keys
		}
	}
	return nil
}

// keySource reads a key from the file named by the flag or from the
// variable holding the PEM; nil when neither is set.
func keySource(file, flag, env string) ([]byte, string, error) {
	text, fromEnv := os.LookupEnv(env)
	fromEnv = fromEnv && strings.TrimSpace(text) != ""
	switch {
	case file != "" && fromEnv:
		return nil, "", fmt.Errorf("both %s (--%s) and %s are set: keep the key in one place", Env(flag), flag, env)
	case file != "":
		where := fmt.Sprintf("%s (--%s) %s", Env(flag), flag, file)
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", where, err)
		}
		return raw, where, nil
	case fromEnv:
		return []byte(text), env, nil
	}
	return nil, "", nil
}

// NeedDecisionKeys reports what a role lacks: the api role a signing key,
// the worker role keys to verify with (in dev, the API's own will do).
func (c *Config) NeedDecisionKeys(sign, verify bool) error {
	switch {
	case sign && c.DecisionSigner == nil:
		return fmt.Errorf("the api role signs every decision it sends to a workflow, and has no key: set %s (--decision-signing-key-file) or %s; make a pair with `countersign keygen --output decision.key`, and give decision.key.pub to the workers", Env("decision-signing-key-file"), EnvDecisionSigningKey)
	case verify && len(c.DecisionVerifyKeys) == 0 && c.DecisionSigner == nil:
		return fmt.Errorf("the worker role accepts only decisions signed by the api role, and has no key to verify them with: set %s (--decision-verify-keys-file) or %s to the api's public key", Env("decision-verify-keys-file"), EnvDecisionVerifyKeys)
	}
	return nil
}

// DecisionVerifier is the verifier of the worker role: the configured keys,
// and in one process with the API (dev) the API's own.
func (c *Config) DecisionVerifier() *provenance.Verifier {
	keys := append([]ed25519.PublicKey(nil), c.DecisionVerifyKeys...)
	if c.DecisionSigner != nil {
		keys = append(keys, c.DecisionSigner.Public())
	}
	return provenance.NewVerifier(keys...)
}
