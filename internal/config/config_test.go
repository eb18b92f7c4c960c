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

// unsetenv unsets name for the rest of the test and restores it after.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	os.Unsetenv(name)
}

func TestEncryptionFromEnv(t *testing.T) {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32))) }
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# newest first\nfile-2:"+key('b')+"\nfile-1:"+key('a')+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	unsetenv(t, EnvEncryptionKeys)
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

	unsetenv(t, EnvEncryptionKeys)
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

// TestEncryptionFailsClosed: encryption that was asked for and cannot be
// applied stops the start, naming the setting, rather than running in
// clear.
func TestEncryptionFailsClosed(t *testing.T) {
	dir := t.TempDir()
	badRing := filepath.Join(dir, "bad-keys")
	if err := os.WriteFile(badRing, []byte("2025-06:not base64!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		env  *string // COUNTERSIGN_ENCRYPTION_KEYS, nil for unset
		c    Config
		want string
	}{
		{"a key file that cannot be read", nil, Config{EncryptionKeyFile: missing}, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file): open " + missing + ": no such file or directory"},
		{"a bad keyring in the file", nil, Config{EncryptionKeyFile: badRing}, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file) " + badRing + `: encryption key "2025-06" is not base64`},
		{"encrypted documents without keys", nil, Config{EncryptDocuments: true}, "COUNTERSIGN_ENCRYPT_DOCUMENTS (--encrypt-documents) needs keys"},
		{"an empty keyring variable", new(string), Config{}, "COUNTERSIGN_ENCRYPTION_KEYS: no encryption keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == nil {
				unsetenv(t, EnvEncryptionKeys)
			} else {
				t.Setenv(EnvEncryptionKeys, *tc.env)
			}
			err := tc.c.EncryptionFromEnv()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error with %q", err, tc.want)
			}
			if tc.c.Encryption != nil {
				t.Fatal("a keyring was set despite the error")
			}
		})
	}
}

func TestEncryptionKeyFileFromEnv(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	c.AddEncryption(fs)
	t.Setenv(Env("encryption-key-file"), "/etc/countersign/keys")
	if err := FromEnv(fs, nil); err != nil || c.EncryptionKeyFile != "/etc/countersign/keys" {
		t.Fatalf("--encryption-key-file from %s: %q, %v", Env("encryption-key-file"), c.EncryptionKeyFile, err)
	}
}

// TestFromEnv: flag over variable over default; a flag kept to the command
// line; a value the flag refuses names the variable.
func TestFromEnv(t *testing.T) {
	parse := func(flagOnly func(string) bool, args ...string) (Config, error) {
		var c Config
		fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
		c.AddHTTP(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return c, FromEnv(fs, flagOnly)
	}
	unsetenv(t, Env("http"))
	t.Setenv(Env("rate-limit"), "0.5")
	t.Setenv(Env("max-fields"), "7")
	c, err := parse(nil, "--max-fields", "9")
	if err != nil || c.RateLimit != 0.5 || c.MaxFields != 9 || c.HTTPAddr != "127.0.0.1:8080" {
		t.Fatalf("rate %v, fields %d, http %q, %v; want 0.5 from the variable, 9 from the flag, the default address", c.RateLimit, c.MaxFields, c.HTTPAddr, err)
	}
	c, err = parse(func(name string) bool { return name == "rate-limit" })
	if err != nil || c.RateLimit != 50 || c.MaxFields != 7 {
		t.Fatalf("rate-limit kept to the command line: rate %v, fields %d, %v", c.RateLimit, c.MaxFields, err)
	}
	t.Setenv(Env("rate-limit"), "fast")
	if _, err := parse(nil); err == nil || !strings.HasPrefix(err.Error(), `COUNTERSIGN_RATE_LIMIT (--rate-limit): invalid value "fast"`) {
		t.Fatalf("a bad value: %v, want an error naming the variable", err)
	}
}

// TestCheckFiles: a file a flag names that cannot be read is an error
// naming the setting; files that read, and flags left empty, are not.
func TestCheckFiles(t *testing.T) {
	var c Config
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	c.AddTemporal(fs)
	c.AddEncryption(fs)
	c.AddSlack(fs)
	var files []string
	fs.VisitAll(func(f *pflag.Flag) {
		if ReadsFile(f) {
			files = append(files, f.Name)
		}
	})
	want := []string{"encryption-key-file", "slack-users-file", "temporal-tls-ca", "temporal-tls-cert", "temporal-tls-key"}
	if !slices.Equal(files, want) {
		t.Fatalf("flags that read a file: %v, want %v", files, want)
	}
	readable := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(readable, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--temporal-tls-ca", readable}); err != nil {
		t.Fatal(err)
	}
	if err := CheckFiles(fs); err != nil {
		t.Fatalf("a readable file: %v", err)
	}
	if err := fs.Set("temporal-tls-cert", "/nonexistent/cert.pem"); err != nil {
		t.Fatal(err)
	}
	err := CheckFiles(fs)
	if err == nil || err.Error() != "COUNTERSIGN_TEMPORAL_TLS_CERT (--temporal-tls-cert): open /nonexistent/cert.pem: no such file or directory" {
		t.Fatalf("an unreadable file: %v", err)
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
		return &c, FromEnv(fs, nil)
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
		if err := FromEnv(fs, nil); err != nil {
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
