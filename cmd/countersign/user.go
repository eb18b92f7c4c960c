package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
)

func newUser() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Link Slack accounts to countersign users",
		Long: `A Slack account can decide reviews, and list the queue with /countersign, only
once an admin has linked it to a countersign user with a role and reviewer
groups, as an API token of theirs would have.`,
	}
	cmd.AddCommand(newUserLink(), newUserList(), newUserUnlink())
	return cmd
}

func newUserLink() *cobra.Command {
	var (
		cf                clientFlags
		user, slack, role string
		groups            []string
	)
	roles := make([]string, len(countersign.Roles))
	for i, r := range countersign.Roles {
		roles[i] = string(r)
	}
	cmd := &cobra.Command{
		Use:   "link --user NAME --slack SLACK_USER_ID --role ROLE [--groups G,...]",
		Short: "Let a Slack account act as a countersign user",
		Long: `Links a Slack account, by its member ID (in Slack: the person's profile, ⋮,
Copy member ID), to a countersign user with a role (` + strings.Join(roles, ", ") + `)
and reviewer groups. Linking the same account again replaces its role and
groups. Every link and unlink is recorded in the audit log. Needs an admin
token.`,
		Example: `  countersign user link --user rita --slack U024BE7LH --role reviewer --groups contracts`,
		Args:    usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if user == "" || slack == "" || role == "" {
				return exitError{code: 2, err: fmt.Errorf("--user, --slack and --role are required (roles: %s)", strings.Join(roles, ", "))}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			link, err := c.LinkSlackUser(cmd.Context(), wire.SlackUserRequest{SlackUserID: slack, User: user, Role: countersign.Role(role), Groups: groups})
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Slack user %s acts as %s (%s)\n", link.SlackUserID, link.User, rights(*link))
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&user, "user", "", "the countersign user the Slack account acts as")
	cmd.Flags().StringVar(&slack, "slack", "", "the Slack member ID, such as U024BE7LH")
	cmd.Flags().StringVar(&role, "role", "", "the role: "+strings.Join(roles, ", "))
	cmd.Flags().StringSliceVar(&groups, "groups", nil, "reviewer groups of the user, comma-separated")
	return cmd
}

// rights are a link's role and groups, in words.
func rights(u countersign.SlackUser) string {
	if len(u.Groups) == 0 {
		return "role " + string(u.Role)
	}
	return "role " + string(u.Role) + ", groups " + strings.Join(u.Groups, ",")
}

func newUserList() *cobra.Command {
	var (
		cf     clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the linked Slack accounts",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			users, err := c.SlackUsers(cmd.Context())
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				if users == nil {
					users = []countersign.SlackUser{}
				}
				return printJSON(cmd.OutOrStdout(), users)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SLACK\tUSER\tROLE\tGROUPS\tLINKED")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s by %s\n", u.SlackUserID, u.User, u.Role, strings.Join(u.Groups, ","), u.LinkedAt.Local().Format(time.DateTime), u.LinkedBy)
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the links as JSON")
	return cmd
}

func newUserUnlink() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "unlink SLACK_USER_ID",
		Short: "Stop a Slack account from acting in countersign",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			link, err := c.UnlinkSlackUser(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Slack user %s no longer acts as %s\n", link.SlackUserID, link.User)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}
