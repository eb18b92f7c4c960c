package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// exportServer serves the real router over SQLite with three decided
// contracts: two approved as drafted, the last corrected. It returns the
// client flags of an approver and the task type's version.
func exportServer(t *testing.T) ([]string, string) {
	t.Helper()
	t.Setenv("COUNTERSIGN_DATABASE_URL", "")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	tt, err := types.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)}}))
	t.Cleanup(ts.Close)
	approver, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "ada", countersign.RoleApprover, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, party := range []string{"Acme", "Beta", "Gamma"} {
		content := party + " and Northwind sign on 2026-01-0" + fmt.Sprint(i+1) + " under the laws of Maine, for 12 months."
		d := &countersign.Document{ID: fmt.Sprintf("d%d", i), TaskType: tt.Name, TaskTypeVersion: tt.Version, Content: content, ContentSHA256: "x",
			Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)}
		if _, _, err := store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		date := fmt.Sprintf("2026-01-0%d", i+1)
		draft := &countersign.Draft{
			Fields:    countersign.Fields{"party_a": party, "party_b": "Northwind", "effective_date": date, "governing_law": "Maine", "term_months": 12.0},
			Evidence:  map[string]countersign.Evidence{"party_a": {Quote: party, Start: 0, End: len(party)}},
			Extractor: "openai", Model: "gpt-x", Prompt: "p1",
		}
		final := &countersign.Final{Fields: draft.Fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionApprove, DecidedBy: "rita",
			DecidedAt: d.CreatedAt.Add(time.Minute), Lineage: &countersign.Lineage{TaskTypeVersion: tt.Version, PolicyVersion: "pol1", Model: "gpt-x", Prompt: "p1", AuditEvents: []string{}}}
		if i == 2 {
			final.Fields = countersign.Fields{"party_a": party + " Ltd", "party_b": "Northwind", "effective_date": date, "governing_law": "Maine", "term_months": 12.0}
			final.Action = countersign.ActionCorrect
		}
		status := countersign.StatusAccepted
		if err := store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: draft, Final: final}); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"--server", ts.URL, "--token", approver}, tt.Version
}

// hfCard is what a test reads of a dataset card's front matter.
type hfCard struct {
	Configs []struct {
		ConfigName string `yaml:"config_name"`
		DataFiles  []struct {
			Split, Path string
		} `yaml:"data_files"`
	}
	Countersign struct {
		Version    string
		ExportedAt string `yaml:"exported_at"`
		Filter     map[string]string
		Files      map[string]struct {
			Lines            int
			TaskTypes        []string `yaml:"task_types"`
			TaskTypeVersions []string `yaml:"task_type_versions"`
			PolicyVersions   []string `yaml:"policy_versions"`
			Models           []string
		}
	}
}

// readCard parses the YAML front matter of dir's README.md.
func readCard(t *testing.T, dir string) hfCard {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte("---\n"))
	front, _, closed := bytes.Cut(rest, []byte("\n---\n"))
	if !ok || !closed {
		t.Fatalf("README.md has no YAML front matter:\n%s", raw)
	}
	var card hfCard
	if err := yaml.Unmarshal(front, &card); err != nil {
		t.Fatalf("front matter does not parse: %v\n%s", err, front)
	}
	return card
}

// TestExportHF: the folder holds sft.jsonl, preference.jsonl and a card
// whose front matter parses, names exactly the files there as
// configurations with a train split, and counts and traces their lines.
func TestExportHF(t *testing.T) {
	client, ttVersion := exportServer(t)
	dir := filepath.Join(t.TempDir(), "data")
	out, err := run(t, append([]string{"export", "--format", "hf", "--type", "contract-review", "-o", dir}, client...)...)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	card := readCard(t, dir)
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	t.Logf("README.md:\n%s", readme)
	var configs []string
	for _, c := range card.Configs {
		configs = append(configs, c.ConfigName)
		if len(c.DataFiles) != 1 || c.DataFiles[0].Split != "train" {
			t.Fatalf("config %s: data_files %+v, want one train split", c.ConfigName, c.DataFiles)
		}
		path := c.DataFiles[0].Path
		raw, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatalf("config %s names %s: %v", c.ConfigName, path, err)
		}
		lines := strings.Count(string(raw), "\n")
		f := card.Countersign.Files[path]
		if f.Lines != lines || !slices.Equal(f.TaskTypes, []string{"contract-review"}) || !slices.Equal(f.TaskTypeVersions, []string{ttVersion}) ||
			!slices.Equal(f.PolicyVersions, []string{"pol1"}) || !slices.Equal(f.Models, []string{"gpt-x"}) {
			t.Errorf("card on %s: %+v, want %d lines of contract-review %s, pol1, gpt-x", path, f, lines, ttVersion)
		}
	}
	if !slices.Equal(configs, []string{"sft", "preference"}) {
		t.Errorf("configs %v, want sft and preference", configs)
	}
	if n := card.Countersign.Files["sft.jsonl"].Lines; n != 3 {
		t.Errorf("sft lines %d, want 3", n)
	}
	if n := card.Countersign.Files["preference.jsonl"].Lines; n != 1 {
		t.Errorf("preference lines %d, want 1 (the corrected contract)", n)
	}
	if card.Countersign.Version != version || card.Countersign.Filter["task_type"] != "contract-review" {
		t.Errorf("card lineage %+v", card.Countersign)
	}
	if _, err := time.Parse(time.RFC3339, card.Countersign.ExportedAt); err != nil {
		t.Errorf("exported_at: %v", err)
	}

	// The same folder again is refused, and nothing in it changes.
	before, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	out, err = run(t, append([]string{"export", "--format", "hf", "-o", dir}, client...)...)
	if err == nil || !strings.Contains(err.Error(), "already has README.md") {
		t.Errorf("export into a used folder: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "README.md")); !bytes.Equal(before, after) {
		t.Error("the card of the earlier export changed")
	}

	// With no preference pairs, there is no preference file, and the card
	// names only sft.
	dir = filepath.Join(t.TempDir(), "unchanged")
	if out, err := run(t, append([]string{"export", "--format", "hf", "--until", "2026-01-01T02:00:00Z", "-o", dir}, client...)...); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	card = readCard(t, dir)
	if len(card.Configs) != 1 || card.Configs[0].ConfigName != "sft" || card.Countersign.Files["preference.jsonl"].Lines != 0 {
		t.Errorf("card %+v, want only sft", card)
	}
	if _, err := os.Stat(filepath.Join(dir, "preference.jsonl")); err == nil {
		t.Error("an empty preference.jsonl was left")
	}

	if _, err := run(t, "export", "--format", "hf"); err == nil || !strings.Contains(err.Error(), "--output DIR") {
		t.Errorf("hf without --output: %v", err)
	}
}
