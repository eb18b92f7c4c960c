package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign/internal/config"
)

// The Helm chart, deploy/helm/countersign, is rendered and checked in a
// module of its own, deploy/helm/chartcheck: Helm needs newer k8s.io modules
// than Temporal's server allows here, and a command's package cannot be
// imported anyway. So this test writes down what the commands the chart runs
// read from the environment, walking their flags as deploy_test.go does, and
// fails when that file no longer says what the binary does; chartcheck holds
// the rendered chart to the file.

var updateChartEnv = flag.Bool("update-chart-env", false, "rewrite the chart checker's record of the variables the binary reads")

// chartEnvFile is that record, in the chart checker's test data.
var chartEnvFile = filepath.Join("..", "..", "deploy", "helm", "chartcheck", "testdata", "countersign-env.json")

// chartCommands are the commands the chart runs.
var chartCommands = []string{"worker", "api", "migrate"}

// envAlternatives are the variables read only from the environment, each
// the alternative of a flag: a command reads one when it has that flag.
var envAlternatives = map[string]string{
	"encryption-key-file":       config.EnvEncryptionKeys,
	"webhook-url":               config.EnvWebhookSecret,
	"decision-signing-key-file": config.EnvDecisionSigningKey,
	"decision-verify-keys-file": config.EnvDecisionVerifyKeys,
}

// chartVariable is what a command does with one COUNTERSIGN_* variable.
type chartVariable struct {
	// Flag is the flag the variable backs; empty for a variable read only
	// from the environment.
	Flag string `json:"flag,omitempty"`
	// File says the value names a file the command reads at start.
	File bool `json:"file,omitempty"`
}

// chartEnv returns, for each command the chart runs, the variables it reads.
func chartEnv(t *testing.T) map[string]map[string]chartVariable {
	t.Helper()
	out := map[string]map[string]chartVariable{}
	for _, name := range chartCommands {
		cmd, _, err := newRoot().Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("countersign %s: not a command: %v", name, err)
		}
		vars := map[string]chartVariable{}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if flagOnly(f.Name) {
				return
			}
			vars[config.Env(f.Name)] = chartVariable{Flag: f.Name, File: config.ReadsFile(f)}
			if alt, ok := envAlternatives[f.Name]; ok {
				vars[alt] = chartVariable{}
			}
		})
		out[name] = vars
	}
	return out
}

// TestChartEnvFile keeps the chart checker's record true to the binary.
func TestChartEnvFile(t *testing.T) {
	want, err := json.MarshalIndent(chartEnv(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *updateChartEnv {
		if err := os.WriteFile(chartEnvFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(chartEnvFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s does not say what countersign %v read from the environment; rewrite it with\n  go test ./cmd/countersign -run TestChartEnvFile -update-chart-env\nthen run the chart's checks: cd deploy/helm/chartcheck && go test ./...", chartEnvFile, chartCommands)
	}
}
