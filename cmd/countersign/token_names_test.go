package main

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/store/postgres/pgtest"
)

// TestTokenCreateOnDatabaseChecksTheUser: `token create --database-url`,
// which writes to the database without the API, holds user names to the
// same rules as POST /v1/tokens (auth.CheckUser).
func TestTokenCreateOnDatabaseChecksTheUser(t *testing.T) {
	db := pgtest.Database(t)
	if out, err := run(t, "token", "create", "--user", "rita", "--role", "reviewer", "--database-url", db); err != nil {
		t.Fatalf("token create for rita: %v\n%s", err, out)
	}
	for user, want := range map[string]string{
		"ri\x00ta":                  "cannot be printed (U+0000)",
		strings.Repeat("r", 100000): "user name is 100000 characters; the limit is 128",
		"countersign":               `user name "countersign" is reserved`,
		"Rita":                      `user name "Rita" is too like "rita", a user with an API token`,
		"ri ta":                     `user name "ri ta" is too like "rita"`,
	} {
		out, err := run(t, "token", "create", "--user", user, "--role", "admin", "--database-url", db)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("token create --user %.40q: %v\n%s; want an error saying %q", user, err, out, want)
		}
	}
	if out, err := run(t, "token", "create", "--user", "rita", "--role", "reviewer", "--database-url", db); err != nil {
		t.Fatalf("a second token for rita: %v\n%s", err, out)
	}
}
