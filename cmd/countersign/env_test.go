//go:build !clientonly

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// errCaptured stops a server command where it would have started.
var errCaptured = errors.New("captured instead of started")

// outcome is what one run of a command line came to.
type outcome struct {
	// flags holds every flag's value as the command's RunE began.
	flags map[string]string
	// started says the command reached its deps; cfg and roles are what it
	// would have started with.
	started bool
	cfg     config.Config
	roles   app.Roles
	err     error
	output  string
}

// runCaptured runs countersign with args in this process. The command at
// path records its flags when its RunE begins; a server command then goes
// on to the point where it would start, and its configuration is captured
// there. Other commands stop after recording: they would reach the API.
func runCaptured(path []string, server bool, args ...string) outcome {
	var o outcome
	root := newRootWith(deps{
		start: func(_ context.Context, cfg config.Config, roles app.Roles, _ *slog.Logger) (*app.App, error) {
			o.started, o.cfg, o.roles = true, cfg, roles
			return nil, errCaptured
		},
		codecServer: func(_ context.Context, cfg config.Config, _ io.Writer, _ *slog.Logger) error {
			o.started, o.cfg = true, cfg
			return errCaptured
		},
	})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	cmd, _, err := root.Find(path)
	if err != nil {
		o.err = err
		return o
	}
	run, plainRun := cmd.RunE, cmd.Run
	cmd.Args = cobra.ArbitraryArgs
	cmd.Run = nil
	cmd.RunE = func(c *cobra.Command, a []string) error {
		o.flags = map[string]string{}
		c.Flags().VisitAll(func(f *pflag.Flag) { o.flags[f.Name] = f.Value.String() })
		switch {
		case !server:
			return nil
		case run != nil:
			return run(c, a)
		}
		plainRun(c, a)
		return nil
	}
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(slices.Clone(path), args...))
	if err := root.Execute(); err != nil && !errors.Is(err, errCaptured) {
		o.err = err
	}
	o.output = out.String()
	return o
}

// commandFlag is one flag of one runnable command.
type commandFlag struct {
	path []string
	flag *pflag.Flag
}

func (cf commandFlag) String() string {
	return "countersign " + strings.Join(cf.path, " ") + " --" + cf.flag.Name
}

// everyFlag walks the whole command tree, cobra's own commands and flags
// included.
func everyFlag() []commandFlag {
	root := newRoot()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var all []commandFlag
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		if cmd.Runnable() {
			cmd.InitDefaultHelpFlag()
			seen := map[string]bool{}
			for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()} {
				fs.VisitAll(func(f *pflag.Flag) {
					if !seen[f.Name] {
						seen[f.Name] = true
						all = append(all, commandFlag{path: path, flag: f})
					}
				})
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(root, nil)
	return all
}

// clearEnv unsets, for the rest of the test, every variable countersign
// reads: a variable set where the test runs must not decide its outcome.
func clearEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, config.EnvPrefix) || strings.HasPrefix(name, "OPENAI_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// writeKeyring writes an encryption keyring of one key and returns its file.
func writeKeyring(t *testing.T, id string) string {
	t.Helper()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(id[:1]), 32))
	path := filepath.Join(t.TempDir(), id+".keys")
	if err := os.WriteFile(path, []byte(id+":"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEveryFlagFromEnv walks every flag of every command and proves that
// its environment variable reaches what the command runs with, exactly as
// the flag does: the values of the flags when the command's RunE begins
// and, for the server commands, the configuration and roles they would
// start with (captured in place of app.Start and the codec server). The
// flag wins over the variable. A flag added later is covered without a
// change here; one whose value is checked before the start may need a
// valid value in values below.
func TestEveryFlagFromEnv(t *testing.T) {
	// The flags no variable sets, and why (see flagOnly).
	neverFromEnv := map[string]string{
		"help":     "cobra's own",
		"reason":   "what one person decides, which a left-over variable would repeat in every later decision and in the audit log",
		"field":    "a decision's corrected value: as for --reason",
		"fields":   "a decision's corrected values: as for --reason",
		"approves": "the correction a decision approves: as for --reason",
		"user":     "whom a token or Slack link is for: a left-over variable would give the next one to the same user",
		"role":     "what a token or Slack link may do: a left-over COUNTERSIGN_ROLE=admin would grant admin to the next token",
		"groups":   "whose reviews a token or Slack link may decide: as for --role",
		"slack":    "the Slack account a link is for: as for --user",
		"output":   "where keygen, checkpoint and export write: one variable for all three would have them overwrite each other's files",
	}
	// The commands that run through deps, whose configuration is captured
	// where they would start.
	servers := map[string]bool{"dev": true, "worker": true, "api": true, "codec-server": true}

	clearEnv(t)
	t.Setenv(config.EnvWebhookSecret, "webhook-secret")
	baseKeys, otherKeys := writeKeyring(t, "base"), writeKeyring(t, "other")
	readable := filepath.Join(t.TempDir(), "readable")
	if err := os.WriteFile(readable, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Values that pass the checks a server command makes before it starts.
	values := map[string]string{
		"log-level":           "debug",
		"log-format":          "json",
		"webhook-url":         "http://127.0.0.1:9/hook",
		"ui-origin":           "http://localhost:8233",
		"encryption-key-file": otherKeys,
	}
	// Flags a flag needs beside it, in every run of it.
	companions := map[string][]string{
		"encrypt-documents": {"--encryption-key-file", baseKeys},
	}
	// Flags a command needs to get as far as its start.
	base := map[string][]string{
		"codec-server": {"--encryption-key-file", baseKeys},
	}
	value := func(f *pflag.Flag) string {
		if v, ok := values[f.Name]; ok {
			return v
		}
		if config.ReadsFile(f) {
			return readable
		}
		switch f.Value.Type() {
		case "bool":
			if f.DefValue == "true" {
				return "false"
			}
			return "true"
		case "int", "int64", "uint", "uint64":
			return "7"
		case "float64", "float64Slice":
			return "0.25"
		case "duration":
			return "7m0s"
		}
		return "from-env-" + f.Name
	}
	without := func(args []string, flag string) []string {
		var kept []string
		for i := 0; i < len(args); i += 2 {
			if args[i] != "--"+flag {
				kept = append(kept, args[i], args[i+1])
			}
		}
		return kept
	}

	all := everyFlag()
	if len(all) < 100 {
		t.Fatalf("found %d flags: the walk missed commands", len(all))
	}
	t.Logf("%d flags of %d commands", len(all), len(slices.CompactFunc(slices.Clone(all), func(a, b commandFlag) bool { return slices.Equal(a.path, b.path) })))
	found := map[string]bool{}
	for _, cf := range all {
		name := cf.flag.Name
		found[name] = true
		server := servers[cf.path[0]] && len(cf.path) == 1
		if name == "help" {
			// cobra reads --help before any hook and shows the help instead of
			// running the command: only the variable needs checking.
			t.Setenv(config.Env(name), "true")
			if o := runCaptured(cf.path, server, base[cf.path[0]]...); o.err != nil || o.flags[name] != "false" {
				t.Errorf("%s: %s=true: --help %q, %v; want the command run", cf, config.Env(name), o.flags[name], o.err)
			}
			os.Unsetenv(config.Env(name))
			continue
		}
		needed := append(slices.Clone(base[cf.path[0]]), companions[name]...)
		args := without(needed, name)
		v := value(cf.flag)

		byDefault := runCaptured(cf.path, server, args...)
		if byDefault.err != nil && len(args) < len(needed) {
			// The command cannot run without this flag, which the test
			// gives it in every other run: the error is the default.
			byDefault = outcome{err: nil, flags: map[string]string{}}
		}
		byFlag := runCaptured(cf.path, server, append(slices.Clone(args), "--"+name+"="+v)...)
		t.Setenv(config.Env(name), v)
		byEnv := runCaptured(cf.path, server, args...)
		// The flag wins over the variable, which is not even parsed.
		t.Setenv(config.Env(name), v+"-not-this")
		both := runCaptured(cf.path, server, append(slices.Clone(args), "--"+name+"="+v)...)
		os.Unsetenv(config.Env(name))

		if err := errors.Join(byDefault.err, byFlag.err, byEnv.err, both.err); err != nil {
			t.Errorf("%s=%s: %v\n%s%s%s", cf, v, err, byDefault.output, byFlag.output, byEnv.output)
			continue
		}
		if server && !(byFlag.started && byEnv.started && both.started) {
			t.Errorf("%s: the command did not reach its start", cf)
			continue
		}
		if byFlag.flags[name] == byDefault.flags[name] {
			t.Errorf("%s=%s: the value %q is the default; give the test another", cf, v, byFlag.flags[name])
			continue
		}
		if server && byDefault.started && reflect.DeepEqual(byFlag.cfg, byDefault.cfg) && byFlag.roles == byDefault.roles {
			t.Errorf("%s=%s changes nothing the command starts with", cf, v)
		}
		if !reflect.DeepEqual(both.flags, byFlag.flags) || !reflect.DeepEqual(both.cfg, byFlag.cfg) {
			t.Errorf("%s: with the flag and %s both set, the variable won", cf, config.Env(name))
		}

		if reason, ok := neverFromEnv[name]; ok {
			if !reflect.DeepEqual(byEnv.flags, byDefault.flags) || !reflect.DeepEqual(byEnv.cfg, byDefault.cfg) {
				t.Errorf("%s is never to come from the environment (%s), but %s set it", cf, reason, config.Env(name))
			}
			continue
		}
		switch {
		case server && (!reflect.DeepEqual(byEnv.cfg, byFlag.cfg) || byEnv.roles != byFlag.roles):
			t.Errorf("%s: %s=%s does not reach the configuration the command starts with, as the flag does (%s differ)", cf, config.Env(name), v, strings.Join(differences(byEnv.cfg, byFlag.cfg), ", "))
		case !server && !reflect.DeepEqual(byEnv.flags, byFlag.flags):
			t.Errorf("%s: with %s=%s the command ran with --%s %q, with the flag %q", cf, config.Env(name), v, name, byEnv.flags[name], byFlag.flags[name])
		}
	}
	for name := range neverFromEnv {
		if !found[name] {
			t.Errorf("--%s is listed as never from the environment, and no command has it", name)
		}
	}
}

// differences names the fields in which two configurations differ.
func differences(a, b config.Config) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var names []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			names = append(names, va.Type().Field(i).Name)
		}
	}
	if len(names) == 0 {
		names = append(names, "roles")
	}
	return names
}

// TestEnvErrors: a variable a flag cannot take, and a file a variable
// names that cannot be read, stop the command with exit status 2 and a
// message naming the variable, before anything starts.
func TestEnvErrors(t *testing.T) {
	clearEnv(t)
	missing := filepath.Join(t.TempDir(), "missing.keys")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"api"}, map[string]string{"COUNTERSIGN_RATE_LIMIT": "fast"}, `COUNTERSIGN_RATE_LIMIT (--rate-limit): invalid value "fast"`},
		{[]string{"dev"}, map[string]string{"COUNTERSIGN_ENCRYPT_DOCUMENTS": "yes please"}, `COUNTERSIGN_ENCRYPT_DOCUMENTS (--encrypt-documents): invalid value "yes please"`},
		{[]string{"reviews"}, map[string]string{"COUNTERSIGN_LIMIT": "many"}, `COUNTERSIGN_LIMIT (--limit): invalid value "many"`},
		{[]string{"worker"}, map[string]string{"COUNTERSIGN_ENCRYPTION_KEY_FILE": missing}, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file): open " + missing + ": no such file or directory"},
		{[]string{"api"}, map[string]string{"COUNTERSIGN_TEMPORAL_TLS_CA": missing}, "COUNTERSIGN_TEMPORAL_TLS_CA (--temporal-tls-ca): open " + missing},
		{[]string{"dev"}, map[string]string{"COUNTERSIGN_ENCRYPT_DOCUMENTS": "true"}, "COUNTERSIGN_ENCRYPT_DOCUMENTS (--encrypt-documents) needs keys"},
		{[]string{"api"}, map[string]string{"COUNTERSIGN_ENCRYPTION_KEYS": ""}, "COUNTERSIGN_ENCRYPTION_KEYS: no encryption keys"},
		{[]string{"worker"}, map[string]string{"COUNTERSIGN_LOG_LEVEL": "loud"}, `COUNTERSIGN_LOG_LEVEL (--log-level): "loud" is not one of`},
		{[]string{"worker"}, map[string]string{"COUNTERSIGN_WORKFLOW_CACHE_SIZE": "0"}, "COUNTERSIGN_WORKFLOW_CACHE_SIZE (--workflow-cache-size) is 0: give at least 1 workflow"},
		{[]string{"dev"}, map[string]string{"COUNTERSIGN_TEMPORAL_HISTORY_CACHE_SIZE": "-5"}, "COUNTERSIGN_TEMPORAL_HISTORY_CACHE_SIZE (--temporal-history-cache-size) is -5: give at least 1 workflow"},
	} {
		var names []string
		for name := range tc.env {
			names = append(names, name)
		}
		t.Run(strings.Join(tc.args, " ")+" "+strings.Join(names, " "), func(t *testing.T) {
			for name, v := range tc.env {
				t.Setenv(name, v)
			}
			o := runCaptured(tc.args, true)
			var exit exitError
			if o.started || !errors.As(o.err, &exit) || exit.code != 2 || !strings.Contains(o.err.Error(), tc.want) {
				t.Fatalf("%v: started %v, %v; want exit status 2 and an error with %q", tc.env, o.started, o.err, tc.want)
			}
		})
	}
}
