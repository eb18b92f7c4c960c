package export_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/export"
)

func TestSummarize(t *testing.T) {
	s, err := export.Summarize(strings.NewReader(run(t, testDocuments(), export.Filter{}, export.SFT)))
	if err != nil {
		t.Fatal(err)
	}
	want := export.Summary{
		Lines:            6,
		TaskTypes:        []string{"contract", "invoice"},
		TaskTypeVersions: []string{"inv1", "tt1", "tt2"},
		PolicyVersions:   []string{"pol1", "pol2", "polI"},
		Models:           []string{"gpt-x", "gpt-x-0301"},
		PromptVersions:   []string{"p1", "p2", "p9"},
	}
	if s.Lines != want.Lines || !slices.Equal(s.TaskTypes, want.TaskTypes) || !slices.Equal(s.TaskTypeVersions, want.TaskTypeVersions) ||
		!slices.Equal(s.PolicyVersions, want.PolicyVersions) || !slices.Equal(s.Models, want.Models) || !slices.Equal(s.PromptVersions, want.PromptVersions) {
		t.Errorf("summary %+v, want %+v", s, want)
	}
	_, err = export.Summarize(strings.NewReader(`{"metadata":{"task_type":"a"}}` + "\n" + `{"messages":[]}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v, want one naming line 2", err)
	}
}
