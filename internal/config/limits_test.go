package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestCheckLimits: the defaults hold, and so does a Config made in code,
// whose zeros are the API's defaults; a reason or field value limit that
// is negative, or above what every workflow accepts, and a negative read
// timeout stop the start, naming the flag and its variable.
func TestCheckLimits(t *testing.T) {
	parse := func(args ...string) *Config {
		t.Helper()
		var c Config
		fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
		c.AddHTTP(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	if err := parse().CheckLimits(); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	if err := new(Config).CheckLimits(); err != nil {
		t.Fatalf("a Config made in code: %v", err)
	}
	if err := parse("--max-reason=65536", "--max-field-value=1", "--read-timeout=1ms").CheckLimits(); err != nil {
		t.Fatalf("at the bounds: %v", err)
	}
	for args, want := range map[string]string{
		"--max-reason=65537":    "--max-reason (COUNTERSIGN_MAX_REASON) is 65537: give 1 to 65536 bytes",
		"--max-reason=-1":       "--max-reason (COUNTERSIGN_MAX_REASON) is -1",
		"--max-field-value=-1":  "--max-field-value (COUNTERSIGN_MAX_FIELD_VALUE) is -1: give 1 to 262144 bytes",
		"--max-field-value=1e9": "invalid argument",
		"--read-timeout=-1s":    "--read-timeout (COUNTERSIGN_READ_TIMEOUT) is -1s",
	} {
		var c Config
		fs := pflag.NewFlagSet("api", pflag.ContinueOnError)
		c.AddHTTP(fs)
		err := fs.Parse([]string{args})
		if err == nil {
			err = c.CheckLimits()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
