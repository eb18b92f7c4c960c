package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMailConfig: mail needs a server and a sender; --mail-to is split on
// commas; the groups file maps a group to its addresses, comments and
// blank lines aside, and a line without an address is refused naming it.
func TestMailConfig(t *testing.T) {
	if err := (&Config{MailTo: "a@example.com"}).CheckMail(); err == nil || !strings.Contains(err.Error(), "without an SMTP server") {
		t.Fatalf("mail settings without a server: %v", err)
	}
	if err := (&Config{SMTPAddr: "smtp.example.com:587"}).CheckMail(); err == nil || !strings.Contains(err.Error(), "--mail-from") {
		t.Fatalf("a server without a sender: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "groups")
	if err := os.WriteFile(file, []byte("# reviewer groups\nlegal lena@example.com lars@example.com\n\ncontracts  lena@example.com # the desk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&Config{SMTPAddr: "smtp.example.com:587", MailFrom: "cs@example.com"}).CheckMail(); err == nil || !strings.Contains(err.Error(), "without --mail-to") {
		t.Fatalf("a server without default recipients: %v", err)
	}
	c := &Config{SMTPAddr: "smtp.example.com:587", MailFrom: "cs@example.com", MailTo: `"Desk, Review" <desk@example.com>, ops@example.com`, MailGroupsFile: file}
	to, groups, err := c.MailRecipients()
	if err != nil || strings.Join(to, "|") != `"Desk, Review" <desk@example.com>|<ops@example.com>` ||
		strings.Join(groups["legal"], ",") != "lena@example.com,lars@example.com" || strings.Join(groups["contracts"], ",") != "lena@example.com" {
		t.Fatalf("recipients = %v %v, %v", to, groups, err)
	}
	if err := os.WriteFile(file, []byte("legal\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.MailRecipients(); err == nil || !strings.Contains(err.Error(), `groups:1: "legal" names a group and no address`) {
		t.Fatalf("a group without an address: %v", err)
	}
}
