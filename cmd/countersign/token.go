package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/store/postgres"
)

func newToken() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
	}
	cmd.AddCommand(newTokenCreate())
	return cmd
}

func newTokenCreate() *cobra.Command {
	var (
		cf          clientFlags
		user        string
		role        string
		expiresIn   time.Duration
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

It asks the API, as an admin. To create the first admin token of a production
database, pass --database-url instead: the token is then written straight into
Postgres, and its creation recorded in the audit log.`,
		Example: `  countersign token create --user alice --role reviewer
  TOKEN=$(countersign token create --user ci --role submitter --expires-in 720h | awk '{print $NF}')`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" || role == "" {
				return exitError{code: 2, err: fmt.Errorf("--user and --role are required (roles: %s)", strings.Join(roles, ", "))}
			}
			if err := config.FromEnv(cmd.Flags(), "database-url"); err != nil {
				return exitError{code: 2, err: err}
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
				secret, token, err = auth.Issue(cmd.Context(), s, "cli", countersign.ChannelCLI, user, countersign.Role(role), expiresIn, time.Now())
				if err != nil {
					return friendly(err)
				}
			} else {
				c, err := cf.client(cmd)
				if err != nil {
					return err
				}
				created, err := c.CreateToken(cmd.Context(), user, countersign.Role(role), expiresIn)
				if err != nil {
					return friendly(err)
				}
				secret, token = created.Secret, created.Token
			}
			expiry := "never expires"
			if token.ExpiresAt != nil {
				expiry = "expires " + token.ExpiresAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created token %s for %s (role %s, %s): %s\n", token.ID, token.User, token.Role, expiry, secret)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&user, "user", "", "who the token is for")
	cmd.Flags().StringVar(&role, "role", "", "the token's role: "+strings.Join(roles, ", "))
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "lifetime, such as 720h (default: no expiry)")
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "create the token directly in this Postgres database instead of through the API (env COUNTERSIGN_DATABASE_URL)")
	return cmd
}
