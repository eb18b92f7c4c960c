package main

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign/internal/config"
)

// The deploy files cannot be run here (no container engine), so they are
// checked against the binary they run: every countersign invocation names a
// real command with flags it has, every COUNTERSIGN_* variable backs a flag
// of a command it is given to, and every file a variable names is in a
// volume the container mounts. The worker and api roles take their shared
// settings from one file, countersign.env, in compose and in Kubernetes;
// internal/e2e/deployenv_test.go runs the built binary with it.

// deployDir is the deploy folder, from this package's.
var deployDir = filepath.Join("..", "..", "deploy")

// envOnly are the variables countersign reads that back no flag.
var envOnly = map[string]bool{
	config.EnvEncryptionKeys: true, config.EnvWebhookSecret: true,
	config.EnvDecisionSigningKey: true, config.EnvDecisionVerifyKeys: true,
}

// invocation parses args as the binary would, without running anything.
func invocation(t *testing.T, where string, args []string) *cobra.Command {
	t.Helper()
	root := newRoot()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is not a countersign command: %v", where, strings.Join(args, " "), err)
		return nil
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: countersign %s: %v", where, strings.Join(args, " "), err)
	}
	return cmd
}

// flagOf returns the flag of cmd that the variable backs, or nil.
func flagOf(cmd *cobra.Command, variable string) *pflag.Flag {
	var found *pflag.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if config.Env(f.Name) == variable && !flagOnly(f.Name) {
			found = f
		}
	})
	return found
}

// checkBacked checks that each variable given to the commands backs a flag
// of one of them.
func checkBacked(t *testing.T, where string, env map[string]string, cmds ...*cobra.Command) {
	t.Helper()
	for name := range env {
		if !strings.HasPrefix(name, config.EnvPrefix) || envOnly[name] {
			continue
		}
		if !slices.ContainsFunc(cmds, func(cmd *cobra.Command) bool { return cmd != nil && flagOf(cmd, name) != nil }) {
			var names []string
			for _, cmd := range cmds {
				if cmd != nil {
					names = append(names, cmd.CommandPath())
				}
			}
			t.Errorf("%s: %s backs no flag of %s", where, name, strings.Join(names, ", "))
		}
	}
}

// checkFiles checks the files a container is given against the variables
// of its command: every file a variable names for it is given, and every
// file given is one a variable names for it, so that a role holds only the
// keys it reads (the api the decision signing key, a worker its public key).
func checkFiles(t *testing.T, where string, env map[string]string, files []string, cmd *cobra.Command) {
	t.Helper()
	if cmd == nil {
		return
	}
	read := map[string]bool{}
	for name, value := range env {
		f := flagOf(cmd, name)
		if f == nil || !config.ReadsFile(f) {
			continue
		}
		read[value] = true
		if !slices.Contains(files, value) {
			t.Errorf("%s: %s=%s names a file the container is not given (%v)", where, name, value, files)
		}
	}
	for _, file := range files {
		if !read[file] {
			t.Errorf("%s is given %s, which countersign %s does not read", where, file, cmd.Name())
		}
	}
}

// readEnvFile reads an env file as compose and kustomize both read it:
// KEY=VALUE lines and # comments. What the two could read differently
// (quotes, export, $ interpolation, space around =) is refused.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") || strings.ContainsAny(value, `"'$`) || strings.TrimSpace(value) != value {
			t.Errorf("%s:%d: %q is not a plain KEY=VALUE line", path, i+1, line)
			continue
		}
		if _, dup := env[name]; dup {
			t.Errorf("%s:%d: %s is set twice", path, i+1, name)
		}
		env[name] = value
	}
	return env
}

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			EnvFile     string            `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []struct {
				Source string `yaml:"source"`
				Target string `yaml:"target"`
			} `yaml:"secrets"`
			Build *struct {
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, secret := range compose.Secrets {
		if !strings.HasPrefix(secret.File, "./secrets/") {
			t.Errorf("compose secret %s is read from %s, outside deploy/secrets (kept out of git)", name, secret.File)
		}
	}
	shared := readEnvFile(t, filepath.Join(deployDir, "countersign.env"))
	var readers []*cobra.Command
	var roles []string
	for name, svc := range compose.Services {
		if svc.Image != "countersign:local" {
			continue
		}
		roles = append(roles, name)
		if svc.Build == nil || svc.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("service %s does not build deploy/Dockerfile", name)
		}
		var files []string
		for _, secret := range svc.Secrets {
			if _, ok := compose.Secrets[secret.Source]; !ok {
				t.Errorf("compose service %s is given secret %s, which compose.yaml does not define", name, secret.Source)
			}
			files = append(files, secret.Target)
		}
		where := "compose service " + name
		cmd := invocation(t, where, svc.Command)
		checkBacked(t, where, svc.Environment, cmd)
		env := svc.Environment
		if svc.EnvFile != "" {
			if svc.EnvFile != "countersign.env" {
				t.Errorf("%s reads %s, want countersign.env", where, svc.EnvFile)
			}
			readers = append(readers, cmd)
			env = maps.Clone(shared)
			maps.Copy(env, svc.Environment)
		}
		checkFiles(t, where, env, files, cmd)
		if name == "worker" || name == "api" {
			if svc.EnvFile != "countersign.env" {
				t.Errorf("%s does not read countersign.env", where)
			}
			if len(svc.Command) != 1 {
				t.Errorf("%s is configured on its command line %q, not by countersign.env", where, svc.Command)
			}
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"api", "token", "worker"}) {
		t.Fatalf("compose.yaml runs countersign services %v, want worker, api and token", roles)
	}
	checkBacked(t, "countersign.env in compose", shared, readers...)
	if _, err := os.Stat(filepath.Join(deployDir, "Dockerfile")); err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	var kustomization struct {
		Resources          []string `yaml:"resources"`
		ConfigMapGenerator []struct {
			Name      string   `yaml:"name"`
			Namespace string   `yaml:"namespace"`
			Envs      []string `yaml:"envs"`
			Literals  []string `yaml:"literals"`
		} `yaml:"configMapGenerator"`
	}
	raw, err := os.ReadFile(filepath.Join(deployDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &kustomization); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if !slices.Equal(kustomization.Resources, []string{"kubernetes/countersign.yaml"}) {
		t.Fatalf("kustomization resources = %v", kustomization.Resources)
	}
	if len(kustomization.ConfigMapGenerator) != 1 {
		t.Fatalf("kustomization makes %d ConfigMaps, want countersign", len(kustomization.ConfigMapGenerator))
	}
	gen := kustomization.ConfigMapGenerator[0]
	if gen.Name != "countersign" || gen.Namespace != "countersign" || !slices.Equal(gen.Envs, []string{"countersign.env"}) {
		t.Fatalf("the countersign ConfigMap is %+v, want it made from countersign.env in namespace countersign", gen)
	}
	env := readEnvFile(t, filepath.Join(deployDir, "countersign.env"))
	for _, literal := range gen.Literals {
		name, value, _ := strings.Cut(literal, "=")
		if _, dup := env[name]; dup {
			t.Errorf("kustomization.yaml sets %s, which countersign.env sets", name)
		}
		env[name] = value
	}

	raw, err = os.ReadFile(filepath.Join(deployDir, "kubernetes", "countersign.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Args    []string `yaml:"args"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
			SecretRef *struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
		} `yaml:"envFrom"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
		Readiness *struct {
			HTTPGet struct {
				Path string `yaml:"path"`
			} `yaml:"httpGet"`
		} `yaml:"readinessProbe"`
	}
	type secretSource struct {
		Name       string `yaml:"name"`
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	}
	type volume struct {
		Name      string        `yaml:"name"`
		Secret    *secretSource `yaml:"secret"`
		Projected *struct {
			Sources []struct {
				Secret *secretSource `yaml:"secret"`
			} `yaml:"sources"`
		} `yaml:"projected"`
	}
	type pod struct {
		containers []container
		volumes    []volume
	}
	kinds := map[string]int{}
	secrets := map[string]map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var pods []pod
	for {
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			StringData map[string]string `yaml:"stringData"`
			Spec       struct {
				Template struct {
					Spec struct {
						Containers []container `yaml:"containers"`
						Volumes    []volume    `yaml:"volumes"`
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
		if doc.Kind == "Secret" {
			secrets[doc.Metadata.Name] = doc.StringData
		}
		if doc.Kind == "Deployment" {
			pods = append(pods, pod{doc.Spec.Template.Spec.Containers, doc.Spec.Template.Spec.Volumes})
		}
	}
	maps.Copy(env, secrets["countersign"])
	// secretFiles lists the files a secret volume source puts in dir.
	secretFiles := func(where, dir string, src *secretSource) []string {
		name := cmp.Or(src.SecretName, src.Name)
		data, ok := secrets[name]
		if !ok {
			t.Errorf("%s mounts Secret %s, which the manifests do not define", where, name)
		}
		var files []string
		for _, item := range src.Items {
			if _, ok := data[item.Key]; !ok {
				t.Errorf("%s mounts key %s of Secret %s, which it lacks", where, item.Key, name)
			}
			files = append(files, dir+"/"+item.Path)
		}
		if len(src.Items) == 0 {
			for _, key := range slices.Sorted(maps.Keys(data)) {
				files = append(files, dir+"/"+key)
			}
		}
		return files
	}
	if kinds["Deployment"] != 2 || kinds["Service"] != 1 || kinds["Secret"] != 3 || kinds["ConfigMap"] != 0 {
		t.Fatalf("manifests = %v", kinds)
	}
	var cmds []*cobra.Command
	for _, p := range pods {
		if len(p.containers) != 1 {
			t.Fatalf("a Deployment runs %d containers, want one", len(p.containers))
		}
		c := p.containers[0]
		where := "container " + c.Name
		cmd := invocation(t, where, c.Args)
		cmds = append(cmds, cmd)
		if len(c.Args) != 1 {
			t.Errorf("%s is configured on its command line %q, not by countersign.env", where, c.Args)
		}
		var from []string
		for _, e := range c.EnvFrom {
			switch {
			case e.ConfigMapRef != nil:
				from = append(from, "configmap/"+e.ConfigMapRef.Name)
			case e.SecretRef != nil:
				from = append(from, "secret/"+e.SecretRef.Name)
			}
		}
		if !slices.Equal(from, []string{"configmap/countersign", "secret/countersign"}) {
			t.Errorf("%s takes its environment from %v, want the countersign ConfigMap and Secret", where, from)
		}
		var files []string
		for _, m := range c.VolumeMounts {
			for _, v := range p.volumes {
				switch {
				case v.Name != m.Name:
				case v.Secret != nil:
					files = append(files, secretFiles(where, m.MountPath, v.Secret)...)
				case v.Projected != nil:
					for _, src := range v.Projected.Sources {
						if src.Secret != nil {
							files = append(files, secretFiles(where, m.MountPath, src.Secret)...)
						}
					}
				}
			}
		}
		checkFiles(t, where, env, files, cmd)
		if c.Readiness != nil && c.Readiness.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe on %s, want /readyz", where, c.Readiness.HTTPGet.Path)
		}
	}
	checkBacked(t, "the countersign ConfigMap and Secret", env, cmds...)
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
