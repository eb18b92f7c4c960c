package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign/internal/config"
)

// The deploy files cannot be run here (no container engine), so they are
// checked against the binary they run: every countersign invocation names a
// real command with flags it has, and every COUNTERSIGN_* variable backs a
// flag of the command it is given to.

// checkInvocation parses args as the binary would, without running anything.
func checkInvocation(t *testing.T, where string, args []string, env map[string]string) {
	t.Helper()
	root := newRoot()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is not a countersign command: %v", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: countersign %s: %v", where, strings.Join(args, " "), err)
	}
	known := map[string]bool{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) { known[config.Env(f.Name)] = true })
	for name := range env {
		if strings.HasPrefix(name, config.EnvPrefix) && !known[name] {
			t.Errorf("%s: %s is not read by countersign %s", where, name, cmd.Name())
		}
	}
}

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Build       *struct {
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	roles := 0
	for name, svc := range compose.Services {
		if svc.Image != "countersign:local" {
			continue
		}
		roles++
		if svc.Build == nil || svc.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("service %s does not build deploy/Dockerfile", name)
		}
		checkInvocation(t, "compose service "+name, svc.Command, svc.Environment)
	}
	if roles < 3 {
		t.Fatalf("compose.yaml runs %d countersign services, want worker, api and token", roles)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "deploy", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "countersign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name      string   `yaml:"name"`
		Image     string   `yaml:"image"`
		Args      []string `yaml:"args"`
		Readiness *struct {
			HTTPGet struct {
				Path string `yaml:"path"`
			} `yaml:"httpGet"`
		} `yaml:"readinessProbe"`
	}
	var env map[string]string
	kinds := map[string]int{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var deployments []container
	for {
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Data       map[string]string `yaml:"data"`
			StringData map[string]string `yaml:"stringData"`
			Spec       struct {
				Template struct {
					Spec struct {
						Containers []container `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("countersign.yaml: %v", err)
		}
		if doc.APIVersion == "" || doc.Kind == "" || doc.Metadata.Name == "" {
			t.Errorf("a manifest lacks apiVersion, kind or metadata.name: %+v", doc)
		}
		kinds[doc.Kind]++
		if env == nil {
			env = map[string]string{}
		}
		for k, v := range doc.Data {
			env[k] = v
		}
		for k, v := range doc.StringData {
			env[k] = v
		}
		deployments = append(deployments, doc.Spec.Template.Spec.Containers...)
	}
	if kinds["Deployment"] != 2 || kinds["Service"] != 1 || kinds["Secret"] != 1 || kinds["ConfigMap"] != 1 {
		t.Fatalf("manifests = %v", kinds)
	}
	for _, c := range deployments {
		checkInvocation(t, "container "+c.Name, c.Args, env)
		if c.Readiness != nil && c.Readiness.HTTPGet.Path != "/readyz" {
			t.Errorf("container %s: readiness probe on %s, want /readyz", c.Name, c.Readiness.HTTPGet.Path)
		}
	}
}

// TestEveryCommandHasHelp keeps --help useful: every command says what it is
// for, and every flag says what it does.
func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Short == "" {
			t.Errorf("%s has no short description", cmd.CommandPath())
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Usage == "" {
				t.Errorf("%s --%s has no usage text", cmd.CommandPath(), f.Name)
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}
