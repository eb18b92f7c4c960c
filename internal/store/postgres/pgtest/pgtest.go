// Package pgtest gives tests a database of their own on a real PostgreSQL
// server, created for the test and dropped after it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvAdminURL names the environment variable with the URL of a database on
// the test server that tests may connect to in order to create databases.
const EnvAdminURL = "COUNTERSIGN_TEST_POSTGRES"

// DefaultAdminURL is the server `.ci/run` starts: local, trust authentication.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Database creates an empty database and returns its URL. The database is
// dropped when the test ends. If the server cannot be reached the test fails
// with a message saying how to provide one.
func Database(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is needed for this test and is not reachable at %s (%v).\n"+
			"Start it (.ci/run does: pg_ctlcluster --skip-systemctl-redirect <version> main start) or set %s.", admin, err, EnvAdminURL)
	}
	defer conn.Close(ctx)

	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	name := "countersign_test_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	DropAfter(t, name)

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvAdminURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// AdminURL is the URL through which tests create databases: EnvAdminURL's,
// or DefaultAdminURL.
func AdminURL() string {
	if admin := os.Getenv(EnvAdminURL); admin != "" {
		return admin
	}
	return DefaultAdminURL
}

// DropAfter drops the database name on the test server when the test ends:
// one the test made, or one the code under test made beside it.
func DropAfter(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
}
