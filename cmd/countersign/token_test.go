package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// run runs the binary's command line in this process and returns what it
// printed and its error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestTokenCommandsThroughAPI(t *testing.T) {
	t.Setenv("COUNTERSIGN_DATABASE_URL", "")
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := httptest.NewServer(api.Router(api.Services{Store: store}))
	defer ts.Close()
	admin, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "root", countersign.RoleAdmin, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := []string{"--server", ts.URL, "--token", admin}

	out, err := run(t, append([]string{"token", "create", "--user", "rita", "--role", "reviewer"}, client...)...)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	id := strings.Fields(out)[2]
	secret := strings.Fields(out)[len(strings.Fields(out))-1]

	out, err = run(t, append([]string{"token", "list", "--json"}, client...)...)
	var tokens []countersign.Token
	if err != nil || json.Unmarshal([]byte(out), &tokens) != nil || len(tokens) != 2 || tokens[1].ID != id || strings.Contains(out, secret) {
		t.Fatalf("token list --json: %v\n%s", err, out)
	}

	if out, err := run(t, append([]string{"token", "revoke", id}, client...)...); !isExit(err, 2) || !strings.Contains(err.Error(), "--reason is required") {
		t.Fatalf("token revoke without a reason: %v\n%s", err, out)
	}
	out, err = run(t, append([]string{"token", "revoke", id, "--reason", "laptop lost"}, client...)...)
	if err != nil || !strings.HasPrefix(out, "revoked token "+id+" of rita (role reviewer) at ") {
		t.Fatalf("token revoke: %v\n%s", err, out)
	}
	if _, err := auth.Authenticate(context.Background(), store, secret, time.Now()); !errors.Is(err, countersign.ErrUnauthorized) {
		t.Fatalf("the revoked token still authenticates: %v", err)
	}
	out, err = run(t, append([]string{"token", "list"}, client...)...)
	if err != nil || !strings.Contains(out, "by root: laptop lost") || !strings.Contains(out, "active") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"token", "revoke", "tok_nope", "--reason", "x"}, client...)...); err == nil || !strings.Contains(err.Error(), "token tok_nope not found") {
		t.Fatalf("token revoke of an unknown token: %v\n%s", err, out)
	}
}

func TestTokenCommandsOnDatabase(t *testing.T) {
	db := pgtest.Database(t)
	out, err := run(t, "token", "create", "--user", "admin", "--role", "admin", "--database-url", db)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	id := strings.Fields(out)[2]
	t.Setenv("COUNTERSIGN_DATABASE_URL", db) // the environment does as well as the flag
	if out, err := run(t, "token", "list"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "active") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if out, err := run(t, "token", "revoke", id, "--reason", "rotated"); err != nil || !strings.HasPrefix(out, "revoked token "+id) {
		t.Fatalf("token revoke: %v\n%s", err, out)
	}
	out, err = run(t, "token", "list", "--json")
	var tokens []countersign.Token
	if err != nil || json.Unmarshal([]byte(out), &tokens) != nil || len(tokens) != 1 || tokens[0].RevokedBy != "cli" || tokens[0].RevokeReason != "rotated" {
		t.Fatalf("token list --json after revoking: %v\n%s", err, out)
	}
}

func isExit(err error, code int) bool {
	var exit exitError
	return errors.As(err, &exit) && exit.code == code
}
