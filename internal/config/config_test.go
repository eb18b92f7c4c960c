package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oidc"
)

func TestEncryptionFromEnv(t *testing.T) {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32))) }
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# newest first\nfile-2:"+key('b')+"\nfile-1:"+key('a')+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv(EnvEncryptionKeys, "")
	var none Config
	if err := none.EncryptionFromEnv(); err != nil || none.Encryption != nil {
		t.Fatalf("no keys: %v, %v; want encryption off", none.Encryption, err)
	}

	t.Setenv(EnvEncryptionKeys, "env-2:"+key('d')+",env-1:"+key('c'))
	var env Config
	if err := env.EncryptionFromEnv(); err != nil || env.Encryption.Current() != "env-2" || len(env.Encryption.IDs()) != 2 {
		t.Fatalf("from %s: %v, %v", EnvEncryptionKeys, env.Encryption, err)
	}
	both := Config{EncryptionKeyFile: file}
	if err := both.EncryptionFromEnv(); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("file and environment: %v, want refused", err)
	}

	t.Setenv(EnvEncryptionKeys, "")
	fromFile := Config{EncryptionKeyFile: file}
	if err := fromFile.EncryptionFromEnv(); err != nil || fromFile.Encryption.Current() != "file-2" {
		t.Fatalf("from the file: %v, %v", fromFile.Encryption, err)
	}

	t.Setenv(EnvEncryptionKeys, "good:"+key('e')+",short:"+base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!")))
	var bad Config
	err := bad.EncryptionFromEnv()
	if err == nil || !strings.Contains(err.Error(), `"short"`) || !strings.Contains(err.Error(), EnvEncryptionKeys) {
		t.Fatalf("a 16-byte key: %v, want an error naming the key and where it came from", err)
	}
}

func TestEncryptionKeyFileFromEnv(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	c.AddEncryption(fs)
	t.Setenv(Env("encryption-key-file"), "/etc/countersign/keys")
	if err := FromEnv(fs); err != nil || c.EncryptionKeyFile != "/etc/countersign/keys" {
		t.Fatalf("--encryption-key-file from %s: %q, %v", Env("encryption-key-file"), c.EncryptionKeyFile, err)
	}
}

func TestCheckUIOrigins(t *testing.T) {
	good := Config{UIOrigins: []string{"http://localhost:8233", "https://temporal.example.com/"}}
	if err := good.CheckUIOrigins(); err != nil || good.UIOrigins[1] != "https://temporal.example.com" {
		t.Fatalf("good origins: %v, %v", good.UIOrigins, err)
	}
	for _, origin := range []string{"*", "temporal.example.com", "https://temporal.example.com/namespaces", "ftp://x"} {
		c := Config{UIOrigins: []string{origin}}
		if err := c.CheckUIOrigins(); err == nil {
			t.Errorf("--ui-origin %q accepted", origin)
		}
	}
}

func TestOIDC(t *testing.T) {
	parse := func(args ...string) (*Config, error) {
		var c Config
		fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
		c.AddOIDC(fs)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &c, FromEnv(fs)
	}

	c, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.OIDC(); cfg != nil || err != nil {
		t.Fatalf("no issuer: %+v, %v; want OIDC off", cfg, err)
	}

	t.Setenv(Env("oidc-audience"), "countersign")
	c, err = parse("--oidc-issuer", "https://login.example.com", "--oidc-roles", "cs-approvers=approver, cs-reviewers=reviewer", "--oidc-role-claim", "groups")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.OIDC()
	if err != nil {
		t.Fatal(err)
	}
	want := oidc.Config{
		Issuer: "https://login.example.com", Audience: "countersign",
		UserClaim: "email", RoleClaim: "groups", GroupsClaim: "groups",
		Roles: []oidc.RoleMapping{{Value: "cs-approvers", Role: countersign.RoleApprover}, {Value: "cs-reviewers", Role: countersign.RoleReviewer}},
	}
	if cfg.Issuer != want.Issuer || cfg.Audience != want.Audience || cfg.UserClaim != want.UserClaim || cfg.RoleClaim != want.RoleClaim || cfg.GroupsClaim != want.GroupsClaim || !slices.Equal(cfg.Roles, want.Roles) {
		t.Fatalf("OIDC() = %+v, want %+v", *cfg, want)
	}

	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{OIDCIssuer: "https://login.example.com"}, "--oidc-audience"},
		{Config{OIDCAudience: "countersign"}, "--oidc-issuer"},
		{Config{OIDCIssuer: "https://login.example.com", OIDCAudience: "countersign", OIDCRoles: "cs-approvers=approver,cs-boss=boss"}, `--oidc-roles: entry "cs-boss=boss": unknown role "boss"`},
		{Config{OIDCIssuer: "https://login.example.com", OIDCAudience: "countersign", OIDCRoles: "cs-approvers"}, `--oidc-roles: entry "cs-approvers" is not VALUE=ROLE`},
	} {
		if _, err := tc.c.OIDC(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.c, err, tc.want)
		}
	}
}

func TestOIDCSignIn(t *testing.T) {
	parse := func(args ...string) *Config {
		t.Helper()
		var c Config
		fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
		c.AddOIDC(fs)
		c.AddOIDCSignIn(fs)
		fs.StringVar(&c.PublicURL, "public-url", "", "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := FromEnv(fs); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	issuer := []string{"--oidc-issuer", "https://login.example.com", "--oidc-audience", "countersign-api"}

	if s, err := parse(issuer...).OIDCSignIn(); s != nil || err != nil {
		t.Fatalf("no sign-in flags: %+v, %v; want sign-in off", s, err)
	}
	// The secret from the environment; the client ID defaults to the
	// audience and the redirect URL to the public URL's callback.
	t.Setenv(Env("oidc-client-secret"), "s3cret")
	s, err := parse(append(issuer, "--public-url", "https://cs.example.com/")...).OIDCSignIn()
	want := OIDCSignIn{ClientID: "countersign-api", ClientSecret: "s3cret", RedirectURL: "https://cs.example.com/ui/oidc/callback"}
	if err != nil || *s != want {
		t.Fatalf("OIDCSignIn() = %+v, %v; want %+v", s, err, want)
	}
	s, err = parse(append(issuer, "--oidc-client-id", "countersign-web", "--oidc-redirect-url", "http://localhost:8080/ui/oidc/callback")...).OIDCSignIn()
	if err != nil || s.ClientID != "countersign-web" || s.RedirectURL != "http://localhost:8080/ui/oidc/callback" {
		t.Fatalf("OIDCSignIn() = %+v, %v", s, err)
	}

	for want, args := range map[string][]string{
		"--public-url":           issuer,
		"need --oidc-issuer":     {"--oidc-client-id", "countersign-web"},
		"whose path is /ui/oidc": append(issuer, "--oidc-redirect-url", "https://cs.example.com/callback"),
	} {
		if _, err := parse(args...).OIDCSignIn(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want an error with %q", args, err, want)
		}
	}
}
