package config

import (
	"bufio"
	"fmt"
	"net/mail"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// AddMail adds the flags of e-mail notices, a second notifier beside
// Slack: the SMTP server turns them on.
func (c *Config) AddMail(fs *pflag.FlagSet) {
	fs.StringVar(&c.SMTPAddr, "smtp-addr", "", usage("smtp-addr", "SMTP server, host:port (587 for submission), that review notices are e-mailed through; mail is off without it"))
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", usage("smtp-username", "user to authenticate to the SMTP server as (PLAIN, only over TLS)"))
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", usage("smtp-password", "password of --smtp-username; prefer the environment variable"))
	fs.BoolVar(&c.SMTPInsecure, "smtp-insecure", false, usage("smtp-insecure", "send to an SMTP server that does not offer STARTTLS (a relay on loopback); otherwise nothing is sent to it"))
	fs.StringVar(&c.MailFrom, "mail-from", "", usage("mail-from", "sender address of review notices"))
	fs.StringVar(&c.MailTo, "mail-to", "", usage("mail-to", "addresses, comma-separated, that notices of reviews whose groups have none in --mail-groups-file go to; required with --smtp-addr"))
	fileVar(fs, &c.MailGroupsFile, "mail-groups-file", usage("mail-groups-file", "file of \"GROUP ADDRESS [ADDRESS...]\" lines: the addresses a reviewer group's notices go to"))
}

// MailEnabled reports whether notices are e-mailed: an SMTP server is set.
func (c *Config) MailEnabled() bool { return c.SMTPAddr != "" }

// MailRecipients reads --mail-to and --mail-groups-file.
func (c *Config) MailRecipients() (to []string, groups map[string][]string, err error) {
	if strings.TrimSpace(c.MailTo) != "" {
		list, err := mail.ParseAddressList(c.MailTo)
		if err != nil {
			return nil, nil, fmt.Errorf("--mail-to %q: %v", c.MailTo, err)
		}
		for _, a := range list {
			to = append(to, a.String())
		}
	}
	groups = map[string][]string{}
	if c.MailGroupsFile == "" {
		return to, groups, nil
	}
	f, err := os.Open(c.MailGroupsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--mail-groups-file: %w", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text, _, _ := strings.Cut(scanner.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return nil, nil, fmt.Errorf("--mail-groups-file %s:%d: %q names a group and no address: write GROUP ADDRESS [ADDRESS...]", c.MailGroupsFile, line, strings.TrimSpace(text))
		}
		groups[fields[0]] = append(groups[fields[0]], fields[1:]...)
	}
	if err := scanner.Err(); err != nil {
		return nil, nil, fmt.Errorf("--mail-groups-file: %w", err)
	}
	return to, groups, nil
}

// CheckMail reports a mail configuration that cannot work: mail settings
// without a server, a server without a sender.
func (c *Config) CheckMail() error {
	switch {
	case !c.MailEnabled() && (c.MailFrom != "" || c.MailTo != "" || c.MailGroupsFile != "" || c.SMTPUsername != ""):
		return fmt.Errorf("mail is configured without an SMTP server: set --smtp-addr (or %s)", Env("smtp-addr"))
	case c.MailEnabled() && c.MailFrom == "":
		return fmt.Errorf("--smtp-addr is set without a sender: set --mail-from (or %s)", Env("mail-from"))
	case c.MailEnabled() && strings.TrimSpace(c.MailTo) == "":
		return fmt.Errorf("--smtp-addr is set without --mail-to (or %s): notices of groups without addresses of their own go there", Env("mail-to"))
	}
	return nil
}
