package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/tasktype"
)

const contractReviewFile = "../../examples/contract-review/tasktype.yaml"

// TestGoldImportRoundTrip: decisions exported for Label Studio and Argilla
// import back as gold items that the task type file accepts, with the
// documents' text and final fields.
func TestGoldImportRoundTrip(t *testing.T) {
	client, _ := exportServer(t)
	for _, format := range []string{"label-studio", "argilla"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			exported := filepath.Join(dir, "export")
			out, err := run(t, append([]string{"export", "--format", format, "--type", "contract-review", "-o", exported}, client...)...)
			if err != nil {
				t.Fatalf("export: %v\n%s", err, out)
			}
			if want := map[string]string{"label-studio": "3 Label Studio tasks written", "argilla": "3 argilla lines written"}[format]; !strings.Contains(out, want) {
				t.Errorf("export says %q, want %q", out, want)
			}
			gold := filepath.Join(dir, "gold.yaml")
			out, err = run(t, "gold", "import", "--format", format, "--task-type-file", contractReviewFile, "-o", gold, exported)
			if err != nil || !strings.Contains(out, "3 gold items read, 0 tasks or records skipped") {
				t.Fatalf("gold import: %v\n%s", err, out)
			}
			tt := withGold(t, gold)
			want := map[string]countersign.Fields{
				"d0": {"party_a": "Acme", "party_b": "Northwind", "effective_date": "2026-01-01", "governing_law": "Maine", "term_months": 12.0},
				"d1": {"party_a": "Beta", "party_b": "Northwind", "effective_date": "2026-01-02", "governing_law": "Maine", "term_months": 12.0},
				"d2": {"party_a": "Gamma Ltd", "party_b": "Northwind", "effective_date": "2026-01-03", "governing_law": "Maine", "term_months": 12.0},
			}
			found := 0
			for _, g := range tt.Gold {
				answer, ok := want[g.ID]
				if !ok {
					continue
				}
				found++
				if !countersign.SameValue(g.Answer, answer) || !strings.HasPrefix(g.Content, strings.TrimSuffix(answer["party_a"].(string), " Ltd")+" and Northwind") {
					t.Errorf("gold item %s: %q, %v, want %v", g.ID, g.Content, g.Answer, answer)
				}
			}
			if found != len(want) {
				t.Errorf("%d imported items in the task type, want %d", found, len(want))
			}
			// Importing them again is refused: the task type has the IDs.
			merged := filepath.Join(dir, "merged.yaml")
			if err := os.WriteFile(merged, tt.Source, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, "gold", "import", "--format", format, "--task-type-file", merged, exported)
			if err == nil || !strings.Contains(err.Error(), "d0 is already given by the task type") {
				t.Errorf("second import: %v, want a refusal naming d0", err)
			}
		})
	}
}

// withGold returns the example task type with the items of gold added to
// its own, as a person pasting them would, parsed as the server parses it.
func withGold(t *testing.T, gold string) *countersign.TaskType {
	t.Helper()
	raw, err := os.ReadFile(gold)
	if err != nil {
		t.Fatal(err)
	}
	var items []any
	if err := yaml.Unmarshal(raw, &items); err != nil {
		t.Fatalf("gold import wrote YAML that does not parse: %v\n%s", err, raw)
	}
	src, err := os.ReadFile(contractReviewFile)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := yaml.Unmarshal(src, &file); err != nil {
		t.Fatal(err)
	}
	g := file["gold"].(map[string]any)
	g["items"] = append(g["items"].([]any), items...)
	merged, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := tasktype.Parse(merged, "merged")
	if err != nil {
		t.Fatalf("the task type refuses the imported items: %v\n%s", err, raw)
	}
	return tt
}

func TestGoldImportRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tasks.json")
	if err := os.WriteFile(bad, []byte(`[{"id": 4, "data": {"body": "x"}, "annotations": []}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gold", "import", "--format", "label-studio", bad}, "tasks.json: task 1 (id 4): data.text is missing"},
		{[]string{"gold", "import", "--format", "kili", bad}, `unknown import format "kili"`},
		{[]string{"gold", "import", "--format", "argilla"}, "accepts 1 arg"},
		{[]string{"gold", "import", "--format", "label-studio", "--task-type-file", filepath.Join(dir, "none.yaml"), bad}, "none.yaml"},
	} {
		out, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v\n%s\nwant an error saying %q", tc.args, err, out, tc.want)
		}
	}
}
