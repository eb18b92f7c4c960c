package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

func newAudit() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show a document's audit trail, verify the whole chain, sign checkpoints of it",
	}
	cmd.AddCommand(newAuditShow(), newAuditVerify(), newAuditCheckpoint(), newAuditKeygen())
	return cmd
}

func newAuditShow() *cobra.Command {
	var (
		cf     clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show DOCUMENT_ID",
		Short: "Show every audit event of a document, in order",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			events, err := c.Audit(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), events)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tEVENT\tACTOR\tCHANNEL\tHASH\tDATA")
			for _, e := range events {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format(time.DateTime), e.Type, e.Actor, e.Channel, e.Hash[:12], clip(string(e.Data), 100))
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as JSON, with full data and hashes")
	return cmd
}

func newAuditVerify() *cobra.Command {
	var (
		cf          clientFlags
		checkpoints []string
		publicKey   string
	)
	cmd := &cobra.Command{
		Use:   "verify [--checkpoint FILE]... [--public-key FILE]",
		Short: "Recompute the whole audit hash chain, hold the stored rows to it, and name the first break",
		Long: `Asks the server to recompute every event's hash and its link to the previous
event, then to hold each stored document's status and final record, and each
stored decision, to the events that recorded them. Exits 0 when both hold, 1
when the chain is broken (naming the first broken event and why) or a row
says something else than its events (naming the document or decision, the
column, what the chain recorded and what the row says). Rows recorded by
events older than some of what events carry now (a decision's time, a final
record's decided_at or delivered_at) are checked without those parts, and
counted as checked only in part.

With --checkpoint (written by "countersign audit checkpoint"), the checkpoint's
signature is checked here, then the chain must still reach the checkpoint's
event with the hash it recorded. That detects what the chain alone cannot:
events rewritten with every hash after them recomputed, and events cut from
the end. --public-key pins the key the checkpoints must be signed with;
without it any key is accepted, which only shows that a checkpoint was not
altered since it was signed.`,
		Example: `  countersign audit verify
  countersign audit verify --checkpoint 2026-03-14.checkpoint.json --public-key audit.key.pub`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if publicKey != "" && len(checkpoints) == 0 {
				return exitError{code: 2, err: errors.New("--public-key checks checkpoints: pass --checkpoint FILE too")}
			}
			var trusted ed25519.PublicKey
			if publicKey != "" {
				raw, err := os.ReadFile(publicKey)
				if err != nil {
					return err
				}
				if trusted, err = audit.ParsePublicKey(raw); err != nil {
					return fmt.Errorf("--public-key %s: %w", publicKey, err)
				}
			}
			signed := make([]audit.Checkpoint, len(checkpoints))
			points := make([]countersign.ChainPoint, len(checkpoints))
			for i, file := range checkpoints {
				cp, err := readCheckpoint(file)
				if err == nil {
					err = cp.Verify(trusted)
				}
				if err != nil {
					return exitError{code: 1, err: fmt.Errorf("checkpoint %s refused: %w", file, err)}
				}
				signed[i], points[i] = cp, cp.Point()
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			report, err := c.VerifyAudit(cmd.Context(), points...)
			if err != nil {
				return friendly(err)
			}
			if b := report.Broken; b != nil {
				at := fmt.Sprintf("event %d", b.Seq)
				if b.ID != "" {
					at += " (" + b.ID + ")"
				}
				return exitError{code: 1, err: fmt.Errorf("audit chain BROKEN at %s: %s; %d events before it verify", at, b.Reason, report.Events)}
			}
			if m := report.Mismatch; m != nil {
				return exitError{code: 1, err: fmt.Errorf("audit chain holds (%d events), but a stored row does NOT match it: %s", report.Events, m.Reason)}
			}
			if !report.OK {
				return exitError{code: 1, err: errors.New("audit verification failed without saying why")}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "audit chain OK: %d events, head %s\n", report.Events, report.Head)
			if r := report.Rows; r != nil {
				fmt.Fprintf(out, "stored rows OK: %d documents and %d decisions say what their events recorded\n", r.Documents, r.Decisions)
				if r.PartialDocuments+r.PartialDecisions > 0 {
					fmt.Fprintf(out, "checked only in part: %d documents and %d decisions, whose events predate a final record's decided_at or delivered_at, or a decision's time, being recorded\n", r.PartialDocuments, r.PartialDecisions)
				}
			}
			for i, cp := range signed {
				fmt.Fprintf(out, "holds checkpoint %s: event %d, signed %s by key %s\n", checkpoints[i], cp.Seq, cp.At.Local().Format(time.DateTime), cp.KeyID)
			}
			if len(signed) > 0 && trusted == nil {
				fmt.Fprintln(out, "the checkpoints' keys were not checked against a trusted one: pass --public-key to require it")
			}
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringArrayVar(&checkpoints, "checkpoint", nil, "a signed checkpoint file the chain must still hold (repeatable)")
	cmd.Flags().StringVar(&publicKey, "public-key", "", "PEM public key the checkpoints must be signed with (from audit keygen, or openssl pkey -pubout)")
	return cmd
}

func readCheckpoint(file string) (audit.Checkpoint, error) {
	var c audit.Checkpoint
	raw, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("not a checkpoint: %w", err)
	}
	return c, nil
}

func newAuditCheckpoint() *cobra.Command {
	var (
		cf         clientFlags
		signingKey string
		output     string
	)
	cmd := &cobra.Command{
		Use:   "checkpoint --signing-key FILE [--output FILE]",
		Short: "Sign a checkpoint of the audit chain as it is now",
		Long: `Asks the server to verify the whole chain and, if it holds, signs a checkpoint
of its head (event count, head hash, time, key ID) with an Ed25519 key, as
JSON on stdout or in --output. Keep checkpoints where whoever can write to the
database cannot (another system, write-once storage, a ticket, an email):
"countersign audit verify --checkpoint FILE" then detects any later rewrite
of the events up to the checkpoint, even with every hash recomputed, and any
event cut from the end. Refuses to sign a broken chain (exit 1).

Make a key with "countersign audit keygen" (or openssl genpkey -algorithm
ed25519); the signing key stays with whoever signs, the public key goes to
whoever verifies.`,
		Example: `  countersign audit checkpoint --signing-key audit.key --output $(date +%F).checkpoint.json`,
		Args:    usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if signingKey == "" {
				return exitError{code: 2, err: errors.New("--signing-key is required (make one with countersign audit keygen)")}
			}
			raw, err := os.ReadFile(signingKey)
			if err != nil {
				return err
			}
			key, err := audit.ParsePrivateKey(raw)
			if err != nil {
				return fmt.Errorf("--signing-key %s: %w", signingKey, err)
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			report, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return friendly(err)
			}
			if b := report.Broken; b != nil {
				return exitError{code: 1, err: fmt.Errorf("audit chain BROKEN at event %d: %s; no checkpoint signed", b.Seq, b.Reason)}
			}
			if m := report.Mismatch; m != nil {
				// The events are the evidence against the row: vouching for
				// them keeps it.
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the chain holds, but a stored row does not match it: %s\n", m.Reason)
			}
			if report.Events == 0 {
				return errors.New("the audit log is empty: there is nothing to checkpoint yet")
			}
			checkpoint, err := audit.Sign(key, countersign.ChainPoint{Seq: report.Events, Hash: report.Head}, time.Now())
			if err != nil {
				return err
			}
			doc, err := json.MarshalIndent(checkpoint, "", "  ")
			if err != nil {
				return err
			}
			doc = append(doc, '\n')
			if output == "" {
				_, err = cmd.OutOrStdout().Write(doc)
			} else {
				err = os.WriteFile(output, doc, 0o644)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "checkpoint of event %d (head %s) signed by key %s\n", checkpoint.Seq, checkpoint.Head, checkpoint.KeyID)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&signingKey, "signing-key", "", "PEM Ed25519 private key to sign with (from audit keygen)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the checkpoint to this file instead of stdout")
	return cmd
}

func newAuditKeygen() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "keygen [--output FILE]",
		Short: "Make an Ed25519 key pair for signing audit checkpoints",
		Long: `Writes a new Ed25519 signing key to FILE (PEM, PKCS #8, mode 0600) and its
public key to FILE.pub (PEM), and prints the key ID that checkpoints name.
Never overwrites an existing file. The signing key is for
"countersign audit checkpoint", the public key for "countersign audit verify".`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := audit.GenerateKey()
			if err != nil {
				return err
			}
			pub := key.Public().(ed25519.PublicKey)
			private, err := audit.MarshalPrivateKey(key)
			if err != nil {
				return err
			}
			public, err := audit.MarshalPublicKey(pub)
			if err != nil {
				return err
			}
			for _, file := range []string{output, output + ".pub"} {
				if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%s already exists: choose another --output, keys are never overwritten", file)
				}
			}
			if err := writeNew(output, private, 0o600); err != nil {
				return err
			}
			if err := writeNew(output+".pub", public, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signing key %s (keep it secret), public key %s.pub; key ID %s\n", output, output, audit.KeyID(pub))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "countersign-audit.key", "signing key file; the public key goes to the same name plus .pub")
	return cmd
}

// writeNew writes a file that must not exist yet.
func writeNew(name string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
