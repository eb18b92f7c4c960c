//go:build !clientonly

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/store/postgres"
)

func newMigrate() *cobra.Command {
	var databaseURL string
	cmd := &cobra.Command{
		Use:   "migrate --database-url URL",
		Short: "Apply pending Postgres migrations, as the database owner",
		Long: `Applies the migrations this binary embeds that the database has not had yet,
then exits. The worker and api apply them on start too, but in production they
run as countersign_app, which may not change the schema: run this as the owner
before rolling out a new version (see the README, Production).`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if databaseURL == "" {
				return exitError{code: 2, err: errors.New("--database-url (or COUNTERSIGN_DATABASE_URL) is required")}
			}
			s, err := postgres.Open(cmd.Context(), databaseURL)
			if err != nil {
				return err
			}
			defer s.Close()
			fmt.Fprintln(cmd.OutOrStdout(), "database migrated: every migration of this version is applied")
			return nil
		},
	}
	cmd.Flags().StringVar(&databaseURL, "database-url", "", "Postgres URL of the owner of the countersign tables (env COUNTERSIGN_DATABASE_URL)")
	return cmd
}
