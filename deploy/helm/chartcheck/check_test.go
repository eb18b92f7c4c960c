package chartcheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The binary cannot be imported from here (its flags are built in package
// main, and its module pins older k8s.io modules than Helm's), so what its
// commands read comes from testdata/countersign-env.json, which
// cmd/countersign's TestChartEnvFile writes by walking the binary's flags and
// keeps true to them.

// binaryEnvFile is that record.
const binaryEnvFile = "testdata/countersign-env.json"

// variable is what a command does with one COUNTERSIGN_* variable.
type variable struct {
	// Flag is the flag the variable backs; empty for one read only from
	// the environment (a key or a secret).
	Flag string `json:"flag"`
	// File says the value names a file the command reads at start.
	File bool `json:"file"`
}

// binary is, for each command the chart runs, the variables it reads.
type binary map[string]map[string]variable

func readBinary() (binary, error) {
	raw, err := os.ReadFile(binaryEnvFile)
	if err != nil {
		return nil, err
	}
	var b binary
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", binaryEnvFile, err)
	}
	return b, nil
}

// envPrefix starts every variable countersign reads; others (OPENAI_API_KEY,
// OTEL_*) are not the binary's flags and are not checked.
const envPrefix = "COUNTERSIGN_"

// readEnvFile reads deploy/countersign.env as compose and kustomize read it:
// KEY=VALUE lines and # comments.
func readEnvFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q is not KEY=VALUE", path, i+1, line)
		}
		env[name] = value
	}
	return env, nil
}

// problems collects what the checks find, to report all at once.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// workload is one pod template the chart renders and the command it runs.
type workload struct {
	where string
	pod   corev1.PodSpec
}

func (r *rendered) workloads() []workload {
	var out []workload
	for _, name := range slices.Sorted(maps.Keys(r.Deployments)) {
		out = append(out, workload{"Deployment " + name, r.Deployments[name].Spec.Template.Spec})
	}
	for _, name := range slices.Sorted(maps.Keys(r.Jobs)) {
		out = append(out, workload{"Job " + name, r.Jobs[name].Spec.Template.Spec})
	}
	return out
}

// containerEnv is the environment a container starts with: the ConfigMaps
// it takes whole, then its own variables (a variable from a Secret has the
// value "secret:NAME/KEY").
func (r *rendered) containerEnv(c corev1.Container) (env map[string]string, fromConfigMap map[string]bool, err error) {
	env, fromConfigMap = map[string]string{}, map[string]bool{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			return nil, nil, fmt.Errorf("takes its environment whole from something other than a ConfigMap: %+v", from)
		}
		cm, ok := r.ConfigMaps[from.ConfigMapRef.Name]
		if !ok {
			return nil, nil, fmt.Errorf("takes its environment from ConfigMap %s, which the chart does not make", from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
			fromConfigMap[from.Prefix+k] = true
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			env[e.Name] = "from:" + e.Name
		}
		delete(fromConfigMap, e.Name)
	}
	return env, fromConfigMap, nil
}

// fileSecret says whether the pod gives container a file at path, and from
// which Secret ("" for another source).
func fileSecret(pod corev1.PodSpec, c corev1.Container, path string) (found bool, secret string) {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			continue
		}
		v := pod.Volumes[i]
		hasItem := func(items []corev1.KeyToPath) bool {
			return len(items) == 0 || slices.ContainsFunc(items, func(it corev1.KeyToPath) bool { return it.Path == rel })
		}
		switch {
		case v.Secret != nil && hasItem(v.Secret.Items):
			return true, v.Secret.SecretName
		case v.ConfigMap != nil && hasItem(v.ConfigMap.Items):
			return true, ""
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.Secret != nil && hasItem(s.Secret.Items):
					return true, s.Secret.Name
				case s.ConfigMap != nil && hasItem(s.ConfigMap.Items):
					return true, ""
				}
			}
		}
	}
	return false, ""
}

// secretsOf lists every Secret a pod can read: those it mounts and those
// its variables come from.
func secretsOf(pod corev1.PodSpec) []string {
	var out []string
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			out = append(out, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					out = append(out, s.Secret.Name)
				}
			}
		}
	}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for _, from := range c.EnvFrom {
			if from.SecretRef != nil {
				out = append(out, from.SecretRef.Name)
			}
		}
	}
	return out
}

// checkAgainstBinary holds every container to the binary, as
// cmd/countersign/deploy_test.go holds compose and the manifests: it runs one
// countersign command with no flags on its command line; each COUNTERSIGN_*
// variable given to it alone backs a flag of that command (or is one it
// reads from the environment), each one from the shared ConfigMap a flag of
// the worker or the api; every file such a variable names is in a volume it
// mounts; and it runs non-root on a read-only root file system.
func checkAgainstBinary(r *rendered, bin binary, image string) problems {
	var p problems
	shared := func(name string) bool {
		_, worker := bin["worker"][name]
		_, api := bin["api"][name]
		return worker || api
	}
	for _, w := range r.workloads() {
		if w.pod.SecurityContext == nil || w.pod.SecurityContext.RunAsNonRoot == nil || !*w.pod.SecurityContext.RunAsNonRoot {
			p.add("%s: the pod may run as root", w.where)
		}
		if w.pod.AutomountServiceAccountToken == nil || *w.pod.AutomountServiceAccountToken {
			p.add("%s: the pod gets a Kubernetes API token it has no use for", w.where)
		}
		for _, c := range slices.Concat(w.pod.InitContainers, w.pod.Containers) {
			where := w.where + " container " + c.Name
			if c.Image != image {
				p.add("%s: image %s, want %s", where, c.Image, image)
			}
			if s := c.SecurityContext; s == nil || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem ||
				s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
				p.add("%s: the root file system is writable or privileges may escalate", where)
			}
			if len(c.Command) != 0 || len(c.Args) != 1 {
				p.add("%s: runs %q %q, want one countersign command configured by its environment", where, c.Command, c.Args)
				continue
			}
			vars, ok := bin[c.Args[0]]
			if !ok {
				p.add("%s: runs countersign %s, not a command %s records (see cmd/countersign/chartenv_test.go)", where, c.Args[0], binaryEnvFile)
				continue
			}
			env, fromConfigMap, err := r.containerEnv(c)
			if err != nil {
				p.add("%s: %v", where, err)
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(env)) {
				if !strings.HasPrefix(name, envPrefix) {
					continue
				}
				if _, ok := vars[name]; !ok && (!fromConfigMap[name] || !shared(name)) {
					p.add("%s: %s is read by no flag of countersign %s", where, name, c.Args[0])
					continue
				}
				if v, ok := vars[name]; ok && v.File && env[name] != "" {
					if found, _ := fileSecret(w.pod, c, env[name]); !found {
						p.add("%s: %s=%s names a file no volume of the container holds", where, name, env[name])
					}
				}
			}
		}
	}
	return p
}

// containerPort resolves a probe's or a Service's port against a container.
func containerPort(c corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return 0
}

// addressPort is the port of a listen address such as 0.0.0.0:8080 or :9464.
func addressPort(addr string) int32 {
	i := strings.LastIndex(addr, ":")
	n, err := strconv.Atoi(addr[i+1:])
	if i < 0 || err != nil {
		return 0
	}
	return int32(n)
}

// role returns the Deployment of a role and its one container.
func (r *rendered) role(name string) (corev1.PodSpec, corev1.Container, error) {
	d, ok := r.Deployments[releaseName+"-countersign-"+name]
	if !ok {
		return corev1.PodSpec{}, corev1.Container{}, fmt.Errorf("no %s Deployment among %v", name, slices.Sorted(maps.Keys(r.Deployments)))
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 || len(pod.Containers[0].Args) != 1 || pod.Containers[0].Args[0] != name {
		return corev1.PodSpec{}, corev1.Container{}, fmt.Errorf("the %s Deployment does not run one container of countersign %s", name, name)
	}
	return pod, pod.Containers[0], nil
}

// checkRoles checks what sets the roles apart: the decision signing key is
// mounted in the api and nowhere in the workers, which hold the public keys;
// the api is probed on /readyz and /healthz at the port of COUNTERSIGN_HTTP
// and reached there through its Service; the worker, with no health
// endpoint, has no probe, and its metrics port is that of
// COUNTERSIGN_METRICS when that is set.
func checkRoles(r *rendered) problems {
	var p problems
	apiPod, api, err := r.role("api")
	if err != nil {
		p.add("%v", err)
		return p
	}
	workerPod, worker, err := r.role("worker")
	if err != nil {
		p.add("%v", err)
		return p
	}
	apiEnv, _, _ := r.containerEnv(api)
	workerEnv, _, _ := r.containerEnv(worker)

	signing := apiEnv["COUNTERSIGN_DECISION_SIGNING_KEY_FILE"]
	found, secret := fileSecret(apiPod, api, signing)
	switch {
	case signing == "" || !found || secret == "":
		p.add("api: the decision signing key (COUNTERSIGN_DECISION_SIGNING_KEY_FILE=%q) is not mounted from a Secret", signing)
	case slices.Contains(secretsOf(workerPod), secret):
		p.add("worker: reads Secret %s, which holds the api's decision signing key", secret)
	}
	if found, _ := fileSecret(workerPod, worker, signing); signing != "" && found {
		p.add("worker: a file is mounted at the signing key's path %s", signing)
	}
	for name, value := range workerEnv {
		if strings.HasPrefix(name, "COUNTERSIGN_DECISION_SIGNING_KEY") && strings.HasPrefix(value, "secret:") {
			p.add("worker: %s comes from %s", name, value)
		}
	}
	if verify := workerEnv["COUNTERSIGN_DECISION_VERIFY_KEYS_FILE"]; verify == "" {
		p.add("worker: no COUNTERSIGN_DECISION_VERIFY_KEYS_FILE")
	} else if found, secret := fileSecret(workerPod, worker, verify); !found || secret == "" {
		p.add("worker: the decision verification keys %s are not mounted from a Secret", verify)
	}

	httpPort := addressPort(apiEnv["COUNTERSIGN_HTTP"])
	if httpPort == 0 {
		p.add("api: COUNTERSIGN_HTTP=%q has no port", apiEnv["COUNTERSIGN_HTTP"])
	}
	for _, probe := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"readiness", "/readyz", api.ReadinessProbe}, {"liveness", "/healthz", api.LivenessProbe}} {
		switch {
		case probe.probe == nil || probe.probe.HTTPGet == nil:
			p.add("api: no HTTP %s probe", probe.kind)
		case probe.probe.HTTPGet.Path != probe.path:
			p.add("api: %s probe on %s, want %s", probe.kind, probe.probe.HTTPGet.Path, probe.path)
		case containerPort(api, probe.probe.HTTPGet.Port) != httpPort:
			p.add("api: %s probe on port %s (%d), want COUNTERSIGN_HTTP's %d", probe.kind, probe.probe.HTTPGet.Port.String(), containerPort(api, probe.probe.HTTPGet.Port), httpPort)
		}
	}
	if api.StartupProbe != nil {
		p.add("api: a startup probe the checks do not know")
	}
	if worker.LivenessProbe != nil || worker.ReadinessProbe != nil || worker.StartupProbe != nil {
		p.add("worker: probed, but the worker serves no health endpoint")
	}
	var metricsPort int32
	for _, port := range worker.Ports {
		if port.Name == "metrics" {
			metricsPort = port.ContainerPort
		}
	}
	if want := addressPort(workerEnv["COUNTERSIGN_METRICS"]); metricsPort != want {
		p.add("worker: metrics port %d, want COUNTERSIGN_METRICS=%q's", metricsPort, workerEnv["COUNTERSIGN_METRICS"])
	}

	services := 0
	for name, svc := range r.Services {
		labels := func(pod map[string]string) bool {
			for k, v := range svc.Spec.Selector {
				if pod[k] != v {
					return false
				}
			}
			return len(svc.Spec.Selector) > 0
		}
		apiLabels := r.Deployments[releaseName+"-countersign-api"].Spec.Template.Labels
		workerLabels := r.Deployments[releaseName+"-countersign-worker"].Spec.Template.Labels
		if !labels(apiLabels) || labels(workerLabels) {
			p.add("Service %s selects %v: not the api's pods alone", name, svc.Spec.Selector)
			continue
		}
		services++
		for _, port := range svc.Spec.Ports {
			if containerPort(api, port.TargetPort) != httpPort {
				p.add("Service %s sends port %d to %s, not COUNTERSIGN_HTTP's %d", name, port.Port, port.TargetPort.String(), httpPort)
			}
		}
	}
	if services != 1 {
		p.add("%d Services reach the api, want 1", services)
	}
	return p
}

// checkMigrate checks the migrate Job: a hook run before every install and
// upgrade, with its own database URL, that of the schema owner; a Secret the
// chart makes for it exists before it runs, as a hook too.
func checkMigrate(r *rendered) problems {
	var p problems
	if len(r.Jobs) != 1 {
		p.add("%d Jobs, want the migrate Job", len(r.Jobs))
		return p
	}
	for name, job := range r.Jobs {
		hook, ok := r.Hooks["Job/"+name]
		if !ok {
			p.add("Job %s is not a Helm hook: it would run beside the roles it should run before", name)
			return p
		}
		if !slices.Contains(hook.Events, "pre-install") || !slices.Contains(hook.Events, "pre-upgrade") {
			p.add("Job %s runs on %v, want pre-install and pre-upgrade", name, hook.Events)
		}
		pod := job.Spec.Template.Spec
		if len(pod.Containers) != 1 || !slices.Equal(pod.Containers[0].Args, []string{"migrate"}) {
			p.add("Job %s does not run countersign migrate alone", name)
			return p
		}
		c := pod.Containers[0]
		if len(c.EnvFrom) != 0 {
			p.add("Job %s takes the environment of objects that do not exist yet when a hook runs on install", name)
		}
		env, _, _ := r.containerEnv(c)
		owner, ok := strings.CutPrefix(env["COUNTERSIGN_DATABASE_URL"], "secret:")
		if !ok {
			p.add("Job %s: COUNTERSIGN_DATABASE_URL is not from a Secret", name)
			return p
		}
		_, api, err := r.role("api")
		if err != nil {
			p.add("%v", err)
			return p
		}
		apiEnv, _, _ := r.containerEnv(api)
		if env["COUNTERSIGN_DATABASE_URL"] == apiEnv["COUNTERSIGN_DATABASE_URL"] {
			p.add("Job %s migrates with the roles' database URL (%s), not the owner's", name, owner)
		}
		secret, _, _ := strings.Cut(owner, "/")
		if _, made := r.Secrets[secret]; made {
			sh, ok := r.Hooks["Secret/"+secret]
			if !ok || sh.Weight >= hook.Weight || !slices.Equal(sh.Events, hook.Events) {
				p.add("Secret %s, the owner's URL the chart makes, is not a hook made before Job %s (%+v, %+v)", secret, name, sh, hook)
			}
		}
	}
	return p
}

// checkEnvFile checks that the shared ConfigMap holds deploy/countersign.env:
// every variable it sets with the same value, and no other but those the
// chart sets itself from values outside config.
func checkEnvFile(r *rendered, envFile map[string]string, chartSet ...string) problems {
	var p problems
	cm, ok := r.ConfigMaps[releaseName+"-countersign"]
	if !ok {
		p.add("no shared ConfigMap among %v", slices.Sorted(maps.Keys(r.ConfigMaps)))
		return p
	}
	for _, name := range slices.Sorted(maps.Keys(envFile)) {
		got, ok := cm.Data[name]
		switch {
		case !ok:
			p.add("countersign.env sets %s, the chart's config does not", name)
		case got != envFile[name]:
			p.add("countersign.env sets %s=%s, the chart's config %s", name, envFile[name], got)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cm.Data)) {
		if _, ok := envFile[name]; !ok && !slices.Contains(chartSet, name) {
			p.add("the chart's config sets %s, which countersign.env does not", name)
		}
	}
	return p
}
