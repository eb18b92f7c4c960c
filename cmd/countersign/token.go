package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/postgres"
)

func newToken() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
	}
	cmd.AddCommand(newTokenCreate(), newTokenList(), newTokenRevoke())
	return cmd
}

func newTokenCreate() *cobra.Command {
	var (
		cf          clientFlags
		user        string
		role        string
		expiresIn   time.Duration
		groups      []string
		databaseURL string
	)
	roles := make([]string, len(countersign.Roles))
	for i, r := range countersign.Roles {
		roles[i] = string(r)
	}
	cmd := &cobra.Command{
		Use:   "create --user USER --role ROLE",
		Short: "Create an API token; the token is the last word of the output",
		Long: `Creates an API token for a user with one role (` + strings.Join(roles, ", ") + `).
The token is shown once, as the last word of the output; only its hash is kept.
--groups names the reviewer groups the user belongs to: a task type with
review_groups is reviewed only by reviewers of one of them.

It asks the API, as an admin. To create the first admin token of a production
database, pass --database-url instead: the token is then written straight into
Postgres, and its creation recorded in the audit log.`,
		Example: `  countersign token create --user alice --role reviewer --groups contracts
  TOKEN=$(countersign token create --user ci --role submitter --expires-in 720h | awk '{print $NF}')`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" || role == "" {
				return exitError{code: 2, err: fmt.Errorf("--user and --role are required (roles: %s)", strings.Join(roles, ", "))}
			}
			var (
				secret string
				token  *countersign.Token
			)
			if databaseURL != "" {
				s, err := postgres.Open(cmd.Context(), databaseURL)
				if err != nil {
					return err
				}
				defer s.Close()
				secret, token, err = auth.Issue(cmd.Context(), s, "cli", countersign.ChannelCLI, user, countersign.Role(role), expiresIn, time.Now(), groups...)
				if err != nil {
					return friendly(err)
				}
			} else {
				c, err := cf.client(cmd)
				if err != nil {
					return err
				}
				created, err := c.CreateToken(cmd.Context(), user, countersign.Role(role), expiresIn, groups...)
				if err != nil {
					return friendly(err)
				}
				secret, token = created.Secret, created.Token
			}
			expiry := "never expires"
			if token.ExpiresAt != nil {
				expiry = "expires " + token.ExpiresAt.Local().Format(time.DateTime)
			}
			if len(token.Groups) > 0 {
				expiry = "groups " + strings.Join(token.Groups, ",") + ", " + expiry
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created token %s for %s (role %s, %s): %s\n", token.ID, token.User, token.Role, expiry, secret)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&user, "user", "", "who the token is for")
	cmd.Flags().StringVar(&role, "role", "", "the token's role: "+strings.Join(roles, ", "))
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "lifetime, such as 720h (default: no expiry)")
	cmd.Flags().StringSliceVar(&groups, "groups", nil, "reviewer groups of the user, comma-separated")
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "create the token directly in this Postgres database instead of through the API (env COUNTERSIGN_DATABASE_URL)")
	return cmd
}

// tokenStore opens the Postgres store when --database-url (or its
// environment variable) is set; it returns nil otherwise, and the command
// goes through the API.
func tokenStore(cmd *cobra.Command, databaseURL *string) (*postgres.Store, error) {
	if *databaseURL == "" {
		return nil, nil
	}
	return postgres.Open(cmd.Context(), *databaseURL)
}

func newTokenList() *cobra.Command {
	var (
		cf          clientFlags
		asJSON      bool
		databaseURL string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens, revoked ones included",
		Long: `Lists every API token, oldest first: its ID, user, role, when it was created,
when it expires and whether it was revoked. Secrets are never shown, nor
their hashes. Revoke one with "countersign token revoke ID --reason R".

It asks the API, as an admin, or with --database-url reads Postgres directly.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := tokenStore(cmd, &databaseURL)
			if err != nil {
				return err
			}
			var tokens []countersign.Token
			if s != nil {
				defer s.Close()
				tokens, err = s.ListTokens(cmd.Context())
			} else {
				c, clientErr := cf.client(cmd)
				if clientErr != nil {
					return clientErr
				}
				tokens, err = c.Tokens(cmd.Context())
			}
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				if tokens == nil {
					tokens = []countersign.Token{}
				}
				return printJSON(cmd.OutOrStdout(), tokens)
			}
			now := time.Now()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tROLE\tCREATED\tEXPIRES\tSTATE")
			for _, t := range tokens {
				expires := "never"
				if t.ExpiresAt != nil {
					expires = t.ExpiresAt.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Role, t.CreatedAt.Local().Format(time.DateTime), expires, tokenState(t, now))
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tokens as JSON")
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "read the tokens directly from this Postgres database instead of through the API (env COUNTERSIGN_DATABASE_URL)")
	return cmd
}

// tokenState says whether a token may be used at now.
func tokenState(t countersign.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return fmt.Sprintf("revoked %s by %s: %s", t.RevokedAt.Local().Format(time.DateTime), t.RevokedBy, t.RevokeReason)
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

func newTokenRevoke() *cobra.Command {
	var (
		cf          clientFlags
		reason      string
		databaseURL string
	)
	cmd := &cobra.Command{
		Use:   "revoke TOKEN_ID --reason REASON",
		Short: "Revoke an API token for good",
		Long: `Revokes an API token: from then on the API refuses it with 401 ("token revoked
at ..."). The token stays in the list, with who revoked it, when and why, and
the revocation is recorded in the audit log. "countersign token list" shows
the IDs. Revoking a token again with the same reason changes nothing.

It asks the API, as an admin. With --database-url it writes straight into
Postgres instead, which also works when no admin token is left.`,
		Example: `  countersign token revoke tok_3f9a0c1d2e4b5a69 --reason "laptop lost"`,
		Args:    usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return exitError{code: 2, err: fmt.Errorf("--reason is required: say why the token is revoked, for the audit log")}
			}
			s, err := tokenStore(cmd, &databaseURL)
			if err != nil {
				return err
			}
			var token *countersign.Token
			if s != nil {
				defer s.Close()
				token, err = auth.Revoke(cmd.Context(), s, "cli", countersign.ChannelCLI, args[0], reason, time.Now())
			} else {
				c, clientErr := cf.client(cmd)
				if clientErr != nil {
					return clientErr
				}
				token, err = c.RevokeToken(cmd.Context(), args[0], reason)
			}
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s of %s (role %s) at %s\n", token.ID, token.User, token.Role, token.RevokedAt.Local().Format(time.DateTime))
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why the token is revoked (required; kept in the audit log)")
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "revoke the token directly in this Postgres database instead of through the API (env COUNTERSIGN_DATABASE_URL)")
	return cmd
}
