package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
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
		Features   map[string][]struct{ Name, Type string }
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

// comparisonServer serves the real router over SQLite with three decided items of examples/response-ranking:
// r1 ranked c>a>b by rita with an improved response, r2 b>a accepted from
// the judge, r3 marked all unacceptable; and, when mixed, a contract.
func comparisonServer(t *testing.T, mixed bool) []string {
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
	tt, err := types.Get("response-ranking")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)}}))
	t.Cleanup(ts.Close)
	approver, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "ada", countersign.RoleApprover, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	scores := func(ids ...string) map[string]any {
		out := map[string]any{}
		for _, cr := range []string{"helpfulness", "correctness", "harmlessness"} {
			per := map[string]any{}
			for i, id := range ids {
				per[id] = float64(5 - i)
			}
			out[cr] = per
		}
		return out
	}
	put := func(i int, taskType *countersign.TaskType, content string, fields countersign.Fields, by string) {
		t.Helper()
		d := &countersign.Document{ID: fmt.Sprintf("c%d", i), TaskType: taskType.Name, TaskTypeVersion: taskType.Version, Content: content, ContentSHA256: fmt.Sprint(i),
			Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, i, 0, 0, 0, time.UTC)}
		if _, _, err := store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		final := &countersign.Final{Fields: fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: by,
			DecidedAt: d.CreatedAt.Add(time.Minute), Lineage: &countersign.Lineage{TaskTypeVersion: taskType.Version, PolicyVersion: "pol1", Model: "judge-x", AuditEvents: []string{}}}
		if by == countersign.SystemActor {
			final.Outcome, final.Action = countersign.OutcomeAutoAccept, ""
		}
		status := countersign.StatusAccepted
		draft := &countersign.Draft{Fields: fields, Extractor: "openai", Model: "judge-x"}
		if err := store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: draft, Final: final}); err != nil {
			t.Fatal(err)
		}
	}
	item := func(id string, ids ...string) string {
		var cands []map[string]any
		for _, c := range ids {
			cands = append(cands, map[string]any{"id": c, "response": "Answer " + c + ".", "model": "gen-" + c})
		}
		raw, _ := json.Marshal(map[string]any{"id": id, "prompt": "Question " + id + "?", "candidates": cands})
		return string(raw)
	}
	put(1, tt, item("r1", "a", "b", "c"), countersign.Fields{"ranking": []any{"c", "a", "b"}, "scores": scores("c", "a", "b"), "improved_response": "A better answer."}, "rita")
	put(2, tt, item("r2", "a", "b"), countersign.Fields{"ranking": []any{"b", "a"}, "scores": scores("b", "a")}, countersign.SystemActor)
	put(3, tt, item("r3", "a", "b"), countersign.Fields{"ranking": []any{"a", "b"}, "scores": scores("a", "b"), "all_unacceptable": "all_wrong"}, "rita")
	if mixed {
		contract, err := types.Get("contract-review")
		if err != nil {
			t.Fatal(err)
		}
		put(4, contract, "Acme and Northwind sign.", countersign.Fields{"party_a": "Acme"}, "rita")
	}
	return []string{"--server", ts.URL, "--token", approver}
}

// documentedFields reads the fields docs/api.md lists for an export
// format of comparisons: the first column of the table under its
// "#### `format=...`" heading.
func documentedFields(t *testing.T, format string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "#### `format="+format+"`")
	if !ok {
		t.Fatalf("docs/api.md has no heading for format=%s", format)
	}
	section, _, _ = strings.Cut(section, "\n#")
	var fields []string
	for _, line := range strings.Split(section, "\n") {
		if m := regexp.MustCompile("^\\| `([a-z_]+)` \\|").FindStringSubmatch(line); m != nil {
			fields = append(fields, m[1])
		}
	}
	slices.Sort(fields)
	return fields
}

// TestExportHFOfComparisons: comparison items export as pairwise.jsonl,
// ranked.jsonl and sft.jsonl (the improved responses), every line
// holding exactly the fields docs/api.md documents for its format, and a
// card naming the three as configurations with their counts, lineage and
// fields. A selection of comparisons and other documents is refused.
func TestExportHFOfComparisons(t *testing.T) {
	client := comparisonServer(t, false)
	dir := filepath.Join(t.TempDir(), "ranking")
	out, err := run(t, append([]string{"export", "--format", "hf", "-o", dir}, client...)...)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	card := readCard(t, dir)
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	var configs []string
	for _, c := range card.Configs {
		configs = append(configs, c.ConfigName+"="+c.DataFiles[0].Path)
	}
	if fmt.Sprint(configs) != "[pairwise=pairwise.jsonl ranked=ranked.jsonl sft=sft.jsonl]" {
		t.Fatalf("configs %v\n%s", configs, readme)
	}
	read := func(name, format string) []map[string]any {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		documented := documentedFields(t, format)
		var lines []map[string]any
		for _, text := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
			var line map[string]any
			if err := json.Unmarshal([]byte(text), &line); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range line {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, documented) {
				t.Fatalf("%s line has %v; docs/api.md documents %v", name, keys, documented)
			}
			meta := line["metadata"].(map[string]any)
			if meta["task_type"] != "response-ranking" || meta["policy_version"] != "pol1" || meta["document_id"] == "" {
				t.Fatalf("%s line's lineage: %v", name, meta)
			}
			lines = append(lines, line)
		}
		if n := card.Countersign.Files[name].Lines; n != len(lines) {
			t.Fatalf("card counts %d lines in %s, it has %d", n, name, len(lines))
		}
		return lines
	}
	var pairs []string
	for _, l := range read("pairwise.jsonl", "pairwise") {
		pairs = append(pairs, fmt.Sprintf("%s:%s>%s:%v:%s", l["item_id"], l["chosen"], l["rejected"], l["margin"], l["decided_by"]))
		if l["prompt"] != "Question "+l["item_id"].(string)+"?" {
			t.Fatalf("pairwise prompt: %v", l)
		}
	}
	slices.Sort(pairs)
	want := []string{"r1:Answer a.>Answer b.:1:rita", "r1:Answer c.>Answer a.:1:rita", "r1:Answer c.>Answer b.:2:rita", "r2:Answer b.>Answer a.:1:countersign"}
	if !slices.Equal(pairs, want) {
		t.Fatalf("pairs %v, want %v (r3 is all unacceptable: none)", pairs, want)
	}
	ranked := read("ranked.jsonl", "ranked")
	if len(ranked) != 3 || ranked[2]["all_unacceptable"] != "all_wrong" || fmt.Sprint(ranked[0]["ranking"]) != "[[c] [a] [b]]" {
		t.Fatalf("ranked lines %v", ranked)
	}
	sft := read("sft.jsonl", "improved")
	if len(sft) != 1 || fmt.Sprint(sft[0]["messages"]) != "[map[content:Question r1? role:user] map[content:A better answer. role:assistant]]" {
		t.Fatalf("sft lines %v", sft)
	}
	for _, name := range []string{"pairwise.jsonl", "ranked.jsonl", "sft.jsonl"} {
		if n := len(card.Countersign.Features[name]); n == 0 {
			t.Errorf("the card lists no features of %s", name)
		}
	}
	var pairFeatures []string
	for _, f := range card.Countersign.Features["pairwise.jsonl"] {
		pairFeatures = append(pairFeatures, f.Name+":"+f.Type)
	}
	if !slices.Contains(pairFeatures, "margin:int64") || !slices.Contains(pairFeatures, "prompt:string") || !slices.Contains(pairFeatures, "metadata:struct") {
		t.Errorf("pairwise features %v", pairFeatures)
	}
	if _, err := os.Stat(filepath.Join(dir, "preference.jsonl")); err == nil {
		t.Error("a preference.jsonl of drafts and corrections was written for comparisons")
	}

	mixed := comparisonServer(t, true)
	dir = filepath.Join(t.TempDir(), "mixed")
	if out, err := run(t, append([]string{"export", "--format", "hf", "-o", dir}, mixed...)...); err == nil || !strings.Contains(err.Error(), "3 comparison items (response-ranking) and 1 other documents") {
		t.Fatalf("a mixed selection: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"export", "--format", "hf", "--type", "response-ranking", "-o", dir}, mixed...)...); err != nil {
		t.Fatalf("the comparisons of a mixed store, by --type: %v\n%s", err, out)
	}
	if card := readCard(t, dir); card.Countersign.Files["ranked.jsonl"].Lines != 3 || card.Countersign.Files["pairwise.jsonl"].Lines != 4 {
		t.Fatalf("card %+v", card.Countersign.Files)
	}
}
