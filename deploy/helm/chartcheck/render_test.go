package chartcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart, from this package's folder.
const chartDir = "../countersign"

// releaseName and namespace are those the chart is rendered for; objects are
// named after the release: cs-countersign-api.
const (
	releaseName = "cs"
	namespace   = "countersign"
)

// hookInfo is how Helm runs an object made as a hook.
type hookInfo struct {
	Events []release.HookEvent
	Weight int
	Delete []release.HookDeletePolicy
}

// rendered is the chart rendered as `helm template` renders it, each object
// decoded strictly into its Kubernetes type, so that a misspelt or misplaced
// field is an error rather than a field Kubernetes would drop.
type rendered struct {
	ConfigMaps  map[string]corev1.ConfigMap
	Secrets     map[string]corev1.Secret
	Services    map[string]corev1.Service
	Deployments map[string]appsv1.Deployment
	Jobs        map[string]batchv1.Job
	// Hooks are the objects made as Helm hooks, by kind/name.
	Hooks map[string]hookInfo
}

// readValues reads a values file.
func readValues(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(raw, &vals); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, nil
}

// overlay returns vals with over on top, as a second -f file would give.
func overlay(vals map[string]any, over string) map[string]any {
	top := map[string]any{}
	if err := yaml.Unmarshal([]byte(over), &top); err != nil {
		panic(err)
	}
	return chartutil.CoalesceTables(top, vals)
}

// newConfiguration is a Helm configuration for client-side work only.
func newConfiguration() *action.Configuration {
	return action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
}

// render renders the chart with vals on top of its values.yaml.
func render(vals map[string]any) (*rendered, error) {
	chart, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(newConfiguration())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.Replace = true
	rel, err := install.Run(chart, vals)
	if err != nil {
		return nil, err
	}
	r, ok := rel.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("helm returned a %T", rel)
	}
	out := &rendered{
		ConfigMaps:  map[string]corev1.ConfigMap{},
		Secrets:     map[string]corev1.Secret{},
		Services:    map[string]corev1.Service{},
		Deployments: map[string]appsv1.Deployment{},
		Jobs:        map[string]batchv1.Job{},
		Hooks:       map[string]hookInfo{},
	}
	if err := out.add(r.Manifest); err != nil {
		return nil, err
	}
	for _, h := range r.Hooks {
		if err := out.add(h.Manifest); err != nil {
			return nil, err
		}
		out.Hooks[h.Kind+"/"+h.Name] = hookInfo{Events: h.Events, Weight: h.Weight, Delete: h.DeletePolicies}
	}
	return out, nil
}

// add decodes the objects of a YAML stream.
func (r *rendered) add(stream string) error {
	for doc := range strings.SplitSeq(stream, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		var meta struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return fmt.Errorf("%w\n%s", err, doc)
		}
		if meta.Namespace != "" && meta.Namespace != namespace {
			return fmt.Errorf("%s %s is made in namespace %s, not the release's", meta.Kind, meta.Name, meta.Namespace)
		}
		var err error
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 ConfigMap":
			err = decodeInto(doc, r.ConfigMaps, meta.Name)
		case "v1 Secret":
			err = decodeInto(doc, r.Secrets, meta.Name)
		case "v1 Service":
			err = decodeInto(doc, r.Services, meta.Name)
		case "apps/v1 Deployment":
			err = decodeInto(doc, r.Deployments, meta.Name)
		case "batch/v1 Job":
			err = decodeInto(doc, r.Jobs, meta.Name)
		default:
			err = errors.New("an object these checks do not know: teach them")
		}
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", meta.APIVersion, meta.Kind, meta.Name, err)
		}
	}
	return nil
}

// decodeInto decodes doc strictly into a new T under name in into.
func decodeInto[T any](doc string, into map[string]T, name string) error {
	if _, dup := into[name]; dup {
		return errors.New("made twice")
	}
	var obj T
	if err := yaml.UnmarshalStrict([]byte(doc), &obj); err != nil {
		return err
	}
	into[name] = obj
	return nil
}

// lint lints the chart as `helm lint --strict` does, with vals, and returns
// every message above information.
func lint(vals map[string]any) []string {
	l := action.NewLint()
	l.Strict = true
	l.Namespace = namespace
	result := l.Run([]string{chartDir}, vals)
	var out []string
	for _, m := range result.Messages {
		if m.Severity > support.InfoSev {
			out = append(out, m.Error())
		}
	}
	for _, err := range result.Errors {
		if !slices.Contains(out, err.Error()) {
			out = append(out, err.Error())
		}
	}
	return out
}
