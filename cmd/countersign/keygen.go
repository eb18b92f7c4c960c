package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
)

func newKeygen() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "keygen --output FILE",
		Short: "Make the Ed25519 key pair with which the API signs people's decisions",
		Long: `Writes a new Ed25519 private key to FILE (PEM, PKCS #8, mode 0600) and its
public key to FILE.pub (PEM), and prints the key ID. Never overwrites a file.

The api role signs every decision, audit, veto and policy reset it sends to a
workflow with the private key (--decision-signing-key-file, or the PEM in
COUNTERSIGN_DECISION_SIGNING_KEY); the workers accept only what one of their
public keys verifies (--decision-verify-keys-file, or the PEM in
COUNTERSIGN_DECISION_VERIFY_KEYS). Keep the private key with the api role
only. "countersign dev" makes its own pair in its data dir.

To rotate: give the workers both public keys (one file, one PEM block after
the other), then switch the api to the new private key; a few minutes later
(envelopes live 5 minutes) drop the old public key.`,
		Example: `  countersign keygen --output decision.key`,
		Args:    usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return exitError{code: 2, err: errors.New("--output is required: where to write the private key")}
			}
			for _, file := range []string{output, output + ".pub"} {
				if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%s already exists: choose another --output, keys are never overwritten", file)
				}
			}
			key, err := audit.GenerateKey()
			if err != nil {
				return err
			}
			if err := provenance.WriteKeyPair(output, key); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key %s (for the api role only), public key %s.pub (for the workers); key ID %s\n",
				output, output, audit.KeyID(key.Public().(ed25519.PublicKey)))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "private key file; the public key goes to the same name plus .pub")
	return cmd
}
