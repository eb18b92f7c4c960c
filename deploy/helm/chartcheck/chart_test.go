package chartcheck

import (
	"maps"
	"slices"
	"strings"
	"testing"

	release "helm.sh/helm/v4/pkg/release/v1"
)

// envFilePath is deploy/countersign.env, the variables compose and kustomize
// give the roles, which the chart's config mirrors.
const envFilePath = "../../countersign.env"

// everything turns every part of the chart on.
const everything = "testdata/everything.yaml"

// defaultImage is the image of values.yaml.
const defaultImage = "ghcr.io/countersign/countersign:latest"

func mustBinary(t *testing.T) binary {
	t.Helper()
	bin, err := readBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func mustValues(t *testing.T, path string) map[string]any {
	t.Helper()
	vals, err := readValues(path)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

func mustRender(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	r, err := render(vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return r
}

func report(t *testing.T, p problems) {
	t.Helper()
	for _, problem := range p {
		t.Error(problem)
	}
}

func TestLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"default values": nil,
		everything:       mustValues(t, everything),
	} {
		for _, msg := range lint(vals) {
			t.Errorf("helm lint --strict, %s: %s", name, msg)
		}
	}
}

// TestDefaultValues renders values.yaml alone: what an install without -f
// makes, against Secrets the operator made under the default names.
func TestDefaultValues(t *testing.T) {
	r := mustRender(t, nil)
	report(t, checkAgainstBinary(r, mustBinary(t), defaultImage))
	report(t, checkRoles(r))
	report(t, checkMigrate(r))

	envFile, err := readEnvFile(envFilePath)
	if err != nil {
		t.Fatal(err)
	}
	report(t, checkEnvFile(r, envFile, "COUNTERSIGN_TEMPORAL_ADDRESS"))

	if len(r.Secrets) != 0 {
		t.Errorf("with default values the chart makes Secrets %v; every secret is the operator's", slices.Sorted(maps.Keys(r.Secrets)))
	}
	_, api, _ := r.role("api")
	_, worker, _ := r.role("worker")
	apiEnv, _, _ := r.containerEnv(api)
	workerEnv, _, _ := r.containerEnv(worker)
	for _, env := range []map[string]string{apiEnv, workerEnv} {
		if got, want := env["COUNTERSIGN_DATABASE_URL"], "secret:cs-countersign-database/url"; got != want {
			t.Errorf("COUNTERSIGN_DATABASE_URL from %s, want %s", got, want)
		}
	}
	migrateEnv, _, _ := r.containerEnv(r.Jobs["cs-countersign-migrate"].Spec.Template.Spec.Containers[0])
	if got, want := migrateEnv["COUNTERSIGN_DATABASE_URL"], "secret:cs-countersign-migrate-database/url"; got != want {
		t.Errorf("migrate: COUNTERSIGN_DATABASE_URL from %s, want %s", got, want)
	}
	if h := r.Hooks["Job/cs-countersign-migrate"]; !slices.Contains(h.Delete, release.HookBeforeHookCreation) {
		t.Errorf("the migrate Job is not replaced on the next upgrade: delete policies %v", h.Delete)
	}
}

// TestEverythingOn renders testdata/everything.yaml: mutual TLS to Temporal,
// encryption, Slack, OIDC, the webhook, a model key and task types.
func TestEverythingOn(t *testing.T) {
	r := mustRender(t, mustValues(t, everything))
	report(t, checkAgainstBinary(r, mustBinary(t), "registry.example.com/countersign:v1.2.3"))
	report(t, checkRoles(r))
	report(t, checkMigrate(r))

	apiPod, api, err := r.role("api")
	if err != nil {
		t.Fatal(err)
	}
	workerPod, worker, err := r.role("worker")
	if err != nil {
		t.Fatal(err)
	}
	apiEnv, _, _ := r.containerEnv(api)
	workerEnv, _, _ := r.containerEnv(worker)

	// Values the checks above hold to the binary and the mounts, present
	// where they belong and nowhere else.
	want := map[string]struct{ api, worker string }{
		"COUNTERSIGN_TEMPORAL_ADDRESS":         {"countersign.a1b2c.tmprl.cloud:7233", "countersign.a1b2c.tmprl.cloud:7233"},
		"COUNTERSIGN_TEMPORAL_TLS_CERT":        {"/run/secrets/countersign/temporal/tls.crt", "/run/secrets/countersign/temporal/tls.crt"},
		"COUNTERSIGN_TEMPORAL_TLS_KEY":         {"/run/secrets/countersign/temporal/tls.key", "/run/secrets/countersign/temporal/tls.key"},
		"COUNTERSIGN_TEMPORAL_TLS_CA":          {"/run/secrets/countersign/temporal/ca.crt", "/run/secrets/countersign/temporal/ca.crt"},
		"COUNTERSIGN_TEMPORAL_TLS_SERVER_NAME": {"countersign.a1b2c.tmprl.cloud", "countersign.a1b2c.tmprl.cloud"},
		"COUNTERSIGN_ENCRYPTION_KEY_FILE":      {"/run/secrets/countersign/keyring", "/run/secrets/countersign/keyring"},
		"COUNTERSIGN_TASK_TYPES":               {"/etc/countersign/task-types", "/etc/countersign/task-types"},
		"COUNTERSIGN_DATABASE_URL":             {"secret:pg-runtime/url", "secret:pg-runtime/url"},
		"COUNTERSIGN_SLACK_BOT_TOKEN":          {"secret:cs-countersign-slack/bot-token", "secret:cs-countersign-slack/bot-token"},
		"COUNTERSIGN_SLACK_SIGNING_SECRET":     {"secret:cs-countersign-slack/signing-secret", "secret:cs-countersign-slack/signing-secret"},
		"COUNTERSIGN_OIDC_CLIENT_SECRET":       {"secret:oidc-client/client-secret", ""},
		"COUNTERSIGN_WEBHOOK_SECRET":           {"", "secret:cs-countersign-webhook/secret"},
		"OPENAI_API_KEY":                       {"", "secret:cs-countersign-openai/api-key"},
		"OTEL_EXPORTER_OTLP_ENDPOINT":          {"", "http://otel-collector.observability.svc:4317"},
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got := apiEnv[name]; got != want[name].api {
			t.Errorf("api: %s=%q, want %q", name, got, want[name].api)
		}
		if got := workerEnv[name]; got != want[name].worker {
			t.Errorf("worker: %s=%q, want %q", name, got, want[name].worker)
		}
	}
	for _, file := range []string{"/run/secrets/countersign/temporal/tls.crt", "/run/secrets/countersign/keyring"} {
		if found, secret := fileSecret(apiPod, api, file); !found || secret == "" {
			t.Errorf("api: %s not mounted from a Secret", file)
		}
		if found, secret := fileSecret(workerPod, worker, file); !found || secret == "" {
			t.Errorf("worker: %s not mounted from a Secret", file)
		}
	}
	if _, secret := fileSecret(apiPod, api, "/run/secrets/countersign/keyring"); secret != "countersign-keyring" {
		t.Errorf("the keyring is mounted from Secret %q, want the existing countersign-keyring", secret)
	}

	made := slices.Sorted(maps.Keys(r.Secrets))
	wantMade := []string{
		"cs-countersign-decision-signing-key", "cs-countersign-decision-verify-keys",
		"cs-countersign-migrate-database", "cs-countersign-openai", "cs-countersign-slack",
		"cs-countersign-temporal-tls", "cs-countersign-webhook",
	}
	if !slices.Equal(made, wantMade) {
		t.Errorf("the chart makes Secrets %v, want those given stringData: %v", made, wantMade)
	}
	if got := string(r.Secrets["cs-countersign-slack"].Data["bot-token"]); got != "xoxb-1" {
		t.Errorf("the Slack Secret holds bot-token %q", got)
	}
	if got := string(r.Secrets["cs-countersign-decision-signing-key"].Data["decision.key"]); got != "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n" {
		t.Errorf("the decision signing key Secret holds %q, not the key given, byte for byte", got)
	}
	if _, ok := r.Hooks["Secret/cs-countersign-migrate-database"]; !ok {
		t.Error("the owner's URL the chart makes is not a hook")
	}
	if d := r.Deployments["cs-countersign-worker"]; d.Spec.Replicas == nil || *d.Spec.Replicas != 4 {
		t.Errorf("worker replicas %v, want 4", d.Spec.Replicas)
	}
	if got := r.ConfigMaps["cs-countersign-task-types"].Data["invoice.yaml"]; !strings.Contains(got, "name: invoice") {
		t.Errorf("task types ConfigMap holds %q", got)
	}
}

// TestChecksFindDrift renders what the chart must not make and checks that
// the checks above say so: they would not pass a chart that drifted from the
// binary or from countersign.env.
func TestChecksFindDrift(t *testing.T) {
	bin := mustBinary(t)
	envFile, err := readEnvFile(envFilePath)
	if err != nil {
		t.Fatal(err)
	}
	againstBinary := func(r *rendered) problems { return checkAgainstBinary(r, bin, defaultImage) }
	againstEnvFile := func(r *rendered) problems { return checkEnvFile(r, envFile, "COUNTERSIGN_TEMPORAL_ADDRESS") }
	for _, tc := range []struct {
		name, values string
		check        func(*rendered) problems
		want         string
	}{{
		name:   "a variable no flag reads",
		values: "config: {COUNTERSIGN_NO_SUCH_SETTING: x}",
		check:  againstBinary,
		want:   "COUNTERSIGN_NO_SUCH_SETTING is read by no flag of countersign api",
	}, {
		name:   "a variable given to a role without its flag",
		values: "worker: {extraEnv: [{name: COUNTERSIGN_HTTP, value: '0.0.0.0:8080'}]}",
		check:  againstBinary,
		want:   "COUNTERSIGN_HTTP is read by no flag of countersign worker",
	}, {
		name:   "a file no volume holds",
		values: "api: {extraEnv: [{name: COUNTERSIGN_SLACK_USERS_FILE, value: /etc/countersign/slack-users}]}",
		check:  againstBinary,
		want:   "COUNTERSIGN_SLACK_USERS_FILE=/etc/countersign/slack-users names a file no volume of the container holds",
	}, {
		name:   "a setting countersign.env changed",
		values: "config: {COUNTERSIGN_LOG_FORMAT: text}",
		check:  againstEnvFile,
		want:   "countersign.env sets COUNTERSIGN_LOG_FORMAT=json, the chart's config text",
	}, {
		name:   "a setting countersign.env has and the chart not",
		values: "config: {COUNTERSIGN_NAMESPACE: null}",
		check:  againstEnvFile,
		want:   "countersign.env sets COUNTERSIGN_NAMESPACE, the chart's config does not",
	}, {
		name:   "a setting the chart has and countersign.env not",
		values: "config: {COUNTERSIGN_PUBLIC_URL: https://countersign.example.com}",
		check:  againstEnvFile,
		want:   "the chart's config sets COUNTERSIGN_PUBLIC_URL, which countersign.env does not",
	}, {
		name:   "the signing key in a worker",
		values: "worker: {extraEnv: [{name: COUNTERSIGN_DECISION_SIGNING_KEY, valueFrom: {secretKeyRef: {name: cs-countersign-decision-signing-key, key: decision.key}}}]}",
		check:  checkRoles,
		want:   "worker: reads Secret cs-countersign-decision-signing-key, which holds the api's decision signing key",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, overlay(nil, tc.values))
			p := tc.check(r)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("the checks did not find %q; they found %q", tc.want, p)
			}
		})
	}
}

// TestChartRefuses renders values the chart must refuse, each with a message
// naming the value to fix.
func TestChartRefuses(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{"config: {COUNTERSIGN_HTTP: '127.0.0.1:8080'}", `config.COUNTERSIGN_HTTP="127.0.0.1:8080": give an address the pod's IP answers on`},
		{"config: {COUNTERSIGN_HTTP: '0.0.0.0:0'}", `config.COUNTERSIGN_HTTP="0.0.0.0:0"`},
		{"config: {COUNTERSIGN_HTTP: null}", "config.COUNTERSIGN_HTTP is required"},
		{"config: {COUNTERSIGN_DATABASE_URL: postgres://x}", "config.COUNTERSIGN_DATABASE_URL: set it with secrets.database"},
		{"config: {COUNTERSIGN_TEMPORAL_ADDRESS: x:7233}", "config.COUNTERSIGN_TEMPORAL_ADDRESS: set it with temporal.address"},
		{"config: {OTEL_SERVICE_NAME: countersign}", "config.OTEL_SERVICE_NAME: config holds countersign's COUNTERSIGN_* settings"},
		{"config: {COUNTERSIGN_ENCRYPTION_KEY_FILE: /etc/keys}", "config.COUNTERSIGN_ENCRYPTION_KEY_FILE=/etc/keys: the chart mounts that file from its Secret under /run/secrets/countersign/"},
		{"secrets: {database: {stringData: {URL: postgres://x}}}", "the database Secret the chart makes from stringData needs the key url"},
		{"temporal: {tls: {enabled: true}}\nsecrets: {temporalTLS: {stringData: {tls.crt: c, tls.key: k}}}", "the temporalTLS Secret the chart makes from stringData needs the key ca.crt"},
	} {
		_, err := render(overlay(nil, tc.values))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %s: rendered with error %v, want one saying %q", tc.values, err, tc.want)
		}
	}
}
