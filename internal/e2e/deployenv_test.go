package e2e

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// The built binary in each role, configured by the environment alone: the
// variables the deploy files give (deploy/countersign.env, shared by compose
// and Kubernetes, and compose.yaml's own), with only the addresses and the
// key file's path made this machine's, and what a deployment adds on top
// (a tiny rate limit, Slack). Every setting is then checked from outside the
// processes.

// deployDir is the deploy folder, from this package's.
var deployDir = filepath.Join("..", "..", "deploy")

// deployEnv holds the variables the deploy files give a compose service: the
// shared countersign.env, then the service's own environment.
func deployEnv(t *testing.T, service string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			EnvFile     string            `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	svc, ok := compose.Services[service]
	if !ok {
		t.Fatalf("compose.yaml has no service %s", service)
	}
	env := map[string]string{}
	if svc.EnvFile != "" {
		env = readEnvFile(t, filepath.Join(deployDir, svc.EnvFile))
	}
	maps.Copy(env, svc.Environment)
	return env
}

// readEnvFile reads KEY=VALUE lines, skipping blank lines and # comments
// (cmd/countersign/deploy_test.go checks the file holds nothing else).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		line := lines.Text()
		if name, value, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[name] = value
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// localized replaces what names the deployment's machines (addresses, URLs,
// paths of mounted files) by this machine's. Only those may be replaced, and
// only variables the deploy files set: everything else runs as deployed.
func localized(t *testing.T, env map[string]string, local map[string]string) map[string]string {
	t.Helper()
	where := map[string]bool{
		"COUNTERSIGN_TEMPORAL_ADDRESS":          true,
		"COUNTERSIGN_DATABASE_URL":              true,
		"COUNTERSIGN_HTTP":                      true,
		"COUNTERSIGN_METRICS":                   true,
		"COUNTERSIGN_ENCRYPTION_KEY_FILE":       true,
		"COUNTERSIGN_DECISION_SIGNING_KEY_FILE": true,
		"COUNTERSIGN_DECISION_VERIFY_KEYS_FILE": true,
	}
	out := maps.Clone(env)
	for name, value := range local {
		if _, set := env[name]; !set || !where[name] {
			t.Fatalf("%s is not an address or path the deploy files set", name)
		}
		out[name] = value
	}
	return out
}

// plus adds settings a deployment could add; none may be one the deploy
// files already set.
func plus(t *testing.T, env map[string]string, extra map[string]string) map[string]string {
	t.Helper()
	out := maps.Clone(env)
	for name, value := range extra {
		if _, set := env[name]; set {
			t.Fatalf("%s is set by the deploy files: replace it with localized", name)
		}
		out[name] = value
	}
	return out
}

// freeAddr returns a local address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// process is the built binary running as a separate process.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // its exit, once done
}

// startProcess runs the binary with args and no environment but env (and
// PATH and HOME): nothing of the test's own environment leaks in.
func startProcess(t *testing.T, name string, env map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: cmd, output: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out)
		}
	})
	return p
}

// waitFor polls cond every 200 ms for up to two minutes, failing the test
// with what if it never holds or the process exits.
func (p *process) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before %s", p.name, p.err, what)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("%s: no %s after two minutes", p.name, what)
}

// stop ends the process with SIGTERM and checks it stopped cleanly.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("%s exited with %v on SIGTERM", p.name, p.err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop within a minute of SIGTERM", p.name)
	}
}

// kill sends SIGKILL and waits for the process to be gone. It may run on
// a goroutine of the test's own.
func (p *process) kill(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("SIGKILL %s: %v", p.name, err)
		return
	}
	<-p.done
}

// run runs the binary to its end with env and args and returns its output.
func run(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("countersign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// httpStatus answers GET url's status code, 0 when nothing answers.
func httpStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// writeKeys writes a keyring of one new key and returns its file.
func writeKeys(t *testing.T, id string) string {
	t.Helper()
	secret := make([]byte, codec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "encryption-keys")
	if err := os.WriteFile(path, []byte(id+":"+base64.StdEncoding.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// decisionKeys makes the key pair of decisions with the binary's keygen, as
// the deploy files say, and returns the variables naming its two files.
func decisionKeys(t *testing.T) map[string]string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "decision.key")
	if out, err := exec.Command(binary(t), "keygen", "--output", key).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	return map[string]string{
		"COUNTERSIGN_DECISION_SIGNING_KEY_FILE": key,
		"COUNTERSIGN_DECISION_VERIFY_KEYS_FILE": key + ".pub",
	}
}

// slackSettings turn Slack on with a local Slack, reviews posted to
// #env-reviews, and the approver anna linked to U0ANNA by a file.
func slackSettings(t *testing.T, slackURL string) map[string]string {
	t.Helper()
	users := filepath.Join(t.TempDir(), "slack-users")
	if err := os.WriteFile(users, []byte("U0ANNA anna approver\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"COUNTERSIGN_SLACK_BOT_TOKEN":      "xoxb-env",
		"COUNTERSIGN_SLACK_SIGNING_SECRET": "env-signing-secret",
		"COUNTERSIGN_SLACK_CHANNEL":        "#env-reviews",
		"COUNTERSIGN_SLACK_API_URL":        slackURL + "/",
		"COUNTERSIGN_SLACK_USERS_FILE":     users,
	}
}

// slackApprove sends the approve click of a Slack user on a review, signed
// with secret, and answers the status.
func slackApprove(t *testing.T, apiURL, secret, user, reviewID string) int {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "trigger_id": "t",
		"container": map[string]any{"channel_id": "CREVIEWS", "message_ts": "1700000000.000001"},
		"actions":   []any{map[string]any{"block_id": "countersign_decide", "action_id": "countersign_approve", "value": reviewID, "action_ts": "1700000100.1"}},
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	req, _ := http.NewRequest(http.MethodPost, apiURL+"/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// reviewThroughSlack submits a document through the API, waits for the
// worker to draft it and open its review, sees the review posted to the
// configured Slack channel, approves it there as anna (linked by the users
// file) through the API, and returns the accepted document. Polls stay under
// the tiny rate limit.
func reviewThroughSlack(t *testing.T, p *process, admin *apiclient.Client, slack *slackRecorder, env map[string]string) *api.DocumentView {
	t.Helper()
	ctx := context.Background()
	sub, err := admin.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ExternalID: "env-1", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	reviewID := sub.ID + "-r1"
	posted := slack.wait(t, "chat.postMessage", `"value":"`+reviewID+`"`)
	if posted.Get("channel") != env["COUNTERSIGN_SLACK_CHANNEL"] {
		t.Fatalf("review posted to %q, want COUNTERSIGN_SLACK_CHANNEL %q", posted.Get("channel"), env["COUNTERSIGN_SLACK_CHANNEL"])
	}
	if status := slackApprove(t, admin.BaseURL, env["COUNTERSIGN_SLACK_SIGNING_SECRET"], "U0ANNA", reviewID); status != http.StatusOK {
		t.Fatalf("anna's signed approve click answered %d", status)
	}
	var doc *api.DocumentView
	p.waitFor(t, "document "+sub.ID+" accepted", func() bool {
		time.Sleep(time.Second)
		doc, err = admin.Document(ctx, sub.ID)
		return err == nil && doc.Status == countersign.StatusAccepted
	})
	if len(doc.Decisions) != 1 || doc.Decisions[0].Actor != "anna" || doc.Decisions[0].Channel != countersign.ChannelSlack {
		t.Fatalf("decisions %+v, want anna's approval through Slack", doc.Decisions)
	}
	return doc
}

// checkRateLimit spends a fresh token's burst and sees 429 naming the rate
// COUNTERSIGN_RATE_LIMIT set, still 429 a second later (the default rate
// would have refilled by then).
func checkRateLimit(t *testing.T, admin *apiclient.Client, rate string) {
	t.Helper()
	ctx := context.Background()
	tok, err := admin.CreateToken(ctx, "hammer", countersign.RoleAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hammer := apiclient.New(admin.BaseURL, tok.Secret)
	var limited error
	for range 1000 {
		if _, err := hammer.Reviews(ctx, apiclient.ReviewQuery{Limit: 1}); err != nil {
			limited = err
			break
		}
	}
	if status(limited) != http.StatusTooManyRequests || !strings.Contains(limited.Error(), rate+" requests per second") {
		t.Fatalf("after a burst: %v, want 429 at %s requests per second", limited, rate)
	}
	time.Sleep(time.Second)
	if _, err := hammer.Reviews(ctx, apiclient.ReviewQuery{Limit: 1}); status(err) != http.StatusTooManyRequests {
		t.Fatalf("a second after the burst: %v, want still 429", err)
	}
}

// checkEncryptedHistory reads the review's workflow history with a client
// without keys and sees its payloads encrypted with the key of keyID.
func checkEncryptedHistory(t *testing.T, temporalAddress, namespace, documentID, keyID string) {
	t.Helper()
	plain, err := worker.Dial(context.Background(), worker.ClientOptions{Address: temporalAddress, Namespace: namespace, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	history := fetchHistory(t, plain, workflows.ReviewWorkflowID(documentID))
	input := history.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(input) == 0 {
		t.Fatal("the workflow started with no input")
	}
	for _, p := range input {
		if enc, key := string(p.Metadata[converter.MetadataEncoding]), string(p.Metadata[codec.MetadataKeyID]); enc != codec.Encoding || key != keyID {
			t.Errorf("workflow input in Temporal: encoding %q, key %q; want %s with key %s", enc, key, codec.Encoding, keyID)
		}
	}
}

// checkSealed checks that a document body as the store holds it is sealed.
func checkSealed(t *testing.T, store countersign.Store, documentID string) {
	t.Helper()
	raw, err := store.GetDocument(context.Background(), documentID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw.Content, "countersign:encrypted:") || strings.Contains(raw.Content, "Northwind") {
		t.Fatalf("the document body in the store: %.80q, want it encrypted", raw.Content)
	}
}

// TestWorkerAndAPIConfiguredByEnv runs `countersign worker` and `countersign
// api` as separate processes against a Temporal server and a Postgres
// database of their own, configured only by the variables compose gives
// them, and the first admin token made as compose's token service makes it.
func TestWorkerAndAPIConfiguredByEnv(t *testing.T) {
	ctx := context.Background()
	workerEnv, apiEnv := deployEnv(t, "worker"), deployEnv(t, "api")
	namespace := apiEnv["COUNTERSIGN_NAMESPACE"]
	if namespace == "" || namespace == "default" {
		t.Fatalf("the deploy files give namespace %q; this test runs a Temporal server with that namespace only, so that a role ignoring it cannot pass", namespace)
	}
	temporal, err := devserver.Start(ctx, devserver.Options{DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(temporal.Stop)
	database := pgtest.Database(t)
	recorder := &slackRecorder{}
	slack := httptest.NewServer(recorder)
	t.Cleanup(slack.Close)

	local := decisionKeys(t)
	local["COUNTERSIGN_TEMPORAL_ADDRESS"] = temporal.Address()
	local["COUNTERSIGN_DATABASE_URL"] = database
	local["COUNTERSIGN_HTTP"] = freeAddr(t)
	local["COUNTERSIGN_METRICS"] = freeAddr(t)
	local["COUNTERSIGN_ENCRYPTION_KEY_FILE"] = writeKeys(t, "env-key")
	added := slackSettings(t, slack.URL)
	added["COUNTERSIGN_RATE_LIMIT"] = "0.1"
	workerEnv = plus(t, localized(t, workerEnv, local), added)
	apiEnv = plus(t, localized(t, apiEnv, local), added)

	apiProc := startProcess(t, "api", apiEnv, "api")
	apiURL := "http://" + apiEnv["COUNTERSIGN_HTTP"]
	apiProc.waitFor(t, "/healthz at COUNTERSIGN_HTTP "+apiURL, func() bool { return httpStatus(apiURL+"/healthz") == http.StatusOK })
	if got := httpStatus(apiURL + "/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with no worker = %d, want 503", got)
	}
	workerProc := startProcess(t, "worker", workerEnv, "worker")
	apiProc.waitFor(t, "/readyz 200 once the worker polls", func() bool { return httpStatus(apiURL+"/readyz") == http.StatusOK })
	metricsURL := "http://" + workerEnv["COUNTERSIGN_METRICS"] + "/metrics"
	workerProc.waitFor(t, "the worker's metrics at COUNTERSIGN_METRICS", func() bool { return httpStatus(metricsURL) == http.StatusOK })

	for _, p := range []*process{apiProc, workerProc} {
		out := p.output.String()
		if !strings.Contains(out, "encryption  Temporal payloads AES-256-GCM, key env-key") {
			t.Errorf("%s banner does not say encryption is on with env-key:\n%s", p.name, out)
		}
		if !strings.Contains(out, "Temporal    "+temporal.Address()+", namespace "+namespace) {
			t.Errorf("%s banner does not name the Temporal server and namespace:\n%s", p.name, out)
		}
	}
	if out := workerProc.output.String(); !strings.Contains(out, "slack       reviews posted to #env-reviews") {
		t.Errorf("worker banner: Slack not on:\n%s", out)
	}
	if out := apiProc.output.String(); !strings.Contains(out, "slack       buttons at "+apiURL+"/slack/interactions") {
		t.Errorf("api banner: Slack buttons not on:\n%s", out)
	}

	// The first admin token, as compose's token service makes it.
	tokenEnv := localized(t, deployEnv(t, "token"), map[string]string{"COUNTERSIGN_DATABASE_URL": database})
	tokenCmd := exec.Command(binary(t), "token", "create", "--user", "admin", "--role", "admin")
	tokenCmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range tokenEnv {
		tokenCmd.Env = append(tokenCmd.Env, k+"="+v)
	}
	out, err := tokenCmd.CombinedOutput()
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	words := strings.Fields(string(out))
	admin := apiclient.New(apiURL, words[len(words)-1])

	doc := reviewThroughSlack(t, apiProc, admin, recorder, apiEnv)
	checkRateLimit(t, admin, "0.1")
	checkEncryptedHistory(t, temporal.Address(), namespace, doc.ID, "env-key")
	store, err := postgres.Open(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkSealed(t, store, doc.ID)

	// COUNTERSIGN_LOG_FORMAT=json: what the roles log is JSON.
	for _, p := range []*process{apiProc, workerProc} {
		p.stop(t)
		if logged := jsonLines(p.output.String()); logged == 0 {
			t.Errorf("%s logged no JSON line:\n%s", p.name, p.output)
		}
	}
}

// jsonLines counts the lines of out that are JSON objects.
func jsonLines(out string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) == nil {
			n++
		}
	}
	return n
}

// TestDevConfiguredByEnv runs `countersign dev` configured only by the
// environment: countersign.env with the address and key file made local,
// and the data dir, Temporal port, rate limit and Slack added.
func TestDevConfiguredByEnv(t *testing.T) {
	recorder := &slackRecorder{}
	slack := httptest.NewServer(recorder)
	t.Cleanup(slack.Close)
	dataDir := t.TempDir()
	temporalAddr := freeAddr(t)
	_, temporalPort, _ := net.SplitHostPort(temporalAddr)

	env := readEnvFile(t, filepath.Join(deployDir, "countersign.env"))
	local := decisionKeys(t)
	local["COUNTERSIGN_HTTP"] = freeAddr(t)
	local["COUNTERSIGN_ENCRYPTION_KEY_FILE"] = writeKeys(t, "dev-key")
	env = localized(t, env, local)
	added := slackSettings(t, slack.URL)
	added["COUNTERSIGN_DATA_DIR"] = dataDir
	added["COUNTERSIGN_TEMPORAL_PORT"] = temporalPort
	added["COUNTERSIGN_RATE_LIMIT"] = "0.1"
	env = plus(t, env, added)

	dev := startProcess(t, "dev", env, "dev")
	apiURL := "http://" + env["COUNTERSIGN_HTTP"]
	dev.waitFor(t, "/readyz 200 at COUNTERSIGN_HTTP "+apiURL, func() bool { return httpStatus(apiURL+"/readyz") == http.StatusOK })
	out := dev.output.String()
	for _, want := range []string{
		"encryption  Temporal payloads AES-256-GCM, key dev-key",
		"Temporal    " + temporalAddr + ", namespace " + env["COUNTERSIGN_NAMESPACE"],
		"admin token " + filepath.Join(dataDir, app.AdminTokenFile),
		"slack       reviews posted to #env-reviews; buttons at " + apiURL + "/slack/interactions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner lacks %q:\n%s", want, out)
		}
	}
	token, err := os.ReadFile(filepath.Join(dataDir, app.AdminTokenFile))
	if err != nil {
		t.Fatalf("no admin token in COUNTERSIGN_DATA_DIR: %v", err)
	}
	admin := apiclient.New(apiURL, strings.TrimSpace(string(token)))

	doc := reviewThroughSlack(t, dev, admin, recorder, env)
	checkRateLimit(t, admin, "0.1")
	checkEncryptedHistory(t, temporalAddr, env["COUNTERSIGN_NAMESPACE"], doc.ID, "dev-key")
	dev.stop(t)

	store, err := sqlite.Open(context.Background(), filepath.Join(dataDir, app.StoreDB))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkSealed(t, store, doc.ID)
}

// TestSecuritySettingsFailClosed starts the built binary with an encryption
// setting that cannot be applied, from the environment, and sees it stop
// before it starts anything, naming the variable.
func TestSecuritySettingsFailClosed(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-keys")
	unreadable := filepath.Join(dir, "unreadable-keys")
	if err := os.WriteFile(unreadable, []byte("k:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	badRing := filepath.Join(dir, "bad-keys")
	if err := os.WriteFile(badRing, []byte("CHANGE-ME\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		role string
		env  map[string]string
		code int // 2 for what the command finds, 1 for what the start finds
		want string
	}{
		{"api", map[string]string{"COUNTERSIGN_DECISION_SIGNING_KEY_FILE": missing}, 2, "COUNTERSIGN_DECISION_SIGNING_KEY_FILE (--decision-signing-key-file): open " + missing + ": no such file or directory"},
		{"worker", map[string]string{"COUNTERSIGN_DECISION_VERIFY_KEYS_FILE": badRing}, 1, "COUNTERSIGN_DECISION_VERIFY_KEYS_FILE (--decision-verify-keys-file) " + badRing + ": "},
		{"worker", map[string]string{"COUNTERSIGN_ENCRYPTION_KEY_FILE": missing}, 2, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file): open " + missing + ": no such file or directory"},
		{"dev", map[string]string{"COUNTERSIGN_ENCRYPT_DOCUMENTS": "true"}, 2, "COUNTERSIGN_ENCRYPT_DOCUMENTS (--encrypt-documents) needs keys"},
		{"api", map[string]string{"COUNTERSIGN_ENCRYPTION_KEY_FILE": badRing, "COUNTERSIGN_ENCRYPT_DOCUMENTS": "true"}, 2, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file) " + badRing + ": encryption key entry 1 is not ID:BASE64KEY"},
		{"api", map[string]string{"COUNTERSIGN_ENCRYPTION_KEYS": ""}, 2, "COUNTERSIGN_ENCRYPTION_KEYS: no encryption keys"},
		{"dev", map[string]string{"COUNTERSIGN_ENCRYPT_DOCUMENTS": "yes"}, 2, `COUNTERSIGN_ENCRYPT_DOCUMENTS (--encrypt-documents): invalid value "yes"`},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct {
			role string
			env  map[string]string
			code int
			want string
		}{"worker", map[string]string{"COUNTERSIGN_ENCRYPTION_KEY_FILE": unreadable}, 2, "COUNTERSIGN_ENCRYPTION_KEY_FILE (--encryption-key-file): open " + unreadable + ": permission denied"})
	}
	for _, tc := range cases {
		var names []string
		for name := range tc.env {
			names = append(names, name)
		}
		t.Run(tc.role+" "+strings.Join(names, " "), func(t *testing.T) {
			env := maps.Clone(tc.env)
			env["COUNTERSIGN_DATA_DIR"] = t.TempDir()
			env["COUNTERSIGN_DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
			// A refusal comes at once; a binary that starts instead is
			// stopped after a while and fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary(t), tc.role)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code || !strings.Contains(string(out), tc.want) {
				t.Fatalf("countersign %s with %v: %v\n%s\nwant exit status %d and %q", tc.role, tc.env, err, out, tc.code, tc.want)
			}
			if strings.Contains(string(out), "is running") || strings.Contains(string(out), "starting the embedded") {
				t.Fatalf("it started before refusing:\n%s", out)
			}
		})
	}
}
