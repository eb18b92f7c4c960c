package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A Hugging Face export (countersign export --format hf) is a folder that
// the datasets library loads: JSONL files (sft and preference; for
// comparison items pairwise, ranked, and sft from improved responses) and
// a README.md dataset card whose YAML front matter names them as
// configurations, each with a train split (the Hub's "Manual
// Configuration": configs, config_name, data_files with split and path,
// https://huggingface.co/docs/hub/datasets-manual-configuration), so that
// load_dataset(DIR, "sft") and load_dataset(DIR, "preference") read them.
// The card also records what the data came from and the fields of each
// file's lines.

// Summary is what the lines of a JSONL export hold: how many, and the
// distinct lineage values of their metadata, each sorted.
type Summary struct {
	Lines            int      `yaml:"lines"`
	TaskTypes        []string `yaml:"task_types"`
	TaskTypeVersions []string `yaml:"task_type_versions"`
	PolicyVersions   []string `yaml:"policy_versions"`
	Models           []string `yaml:"models"`
	PromptVersions   []string `yaml:"prompt_versions"`
}

// Summarize reads a JSONL export (SFT, preference or eval) line by line and
// sums up its metadata. It holds one line at a time and the distinct values.
func Summarize(r io.Reader) (Summary, error) {
	var s Summary
	in := bufio.NewReader(r)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			var rec struct {
				Metadata *metadata `json:"metadata"`
			}
			if jerr := json.Unmarshal(line, &rec); jerr != nil || rec.Metadata == nil {
				return s, fmt.Errorf("line %d: not an export line with metadata: %v", s.Lines+1, jerr)
			}
			s.Lines++
			m := rec.Metadata
			s.TaskTypes = addDistinct(s.TaskTypes, m.TaskType)
			s.TaskTypeVersions = addDistinct(s.TaskTypeVersions, m.TaskTypeVersion)
			s.PolicyVersions = addDistinct(s.PolicyVersions, m.PolicyVersion)
			s.Models = addDistinct(s.Models, m.Model)
			s.PromptVersions = addDistinct(s.PromptVersions, m.PromptVersion)
		}
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
	}
}

// addDistinct inserts v into the sorted list, unless it is empty or there.
func addDistinct(list []string, v string) []string {
	if v == "" {
		return list
	}
	i, found := slices.BinarySearch(list, v)
	if found {
		return list
	}
	return slices.Insert(list, i, v)
}

// CardFile is one file of a Hugging Face export: its configuration name,
// path in the folder, what it holds and the fields of its lines.
type CardFile struct {
	Config   string
	Path     string
	Summary  Summary
	Features []Feature
}

// Card is the dataset card of a Hugging Face export.
type Card struct {
	// Files are the exported files, in the order the card lists them; one
	// with no lines is counted but not named as a configuration, since the
	// datasets library cannot load an empty file.
	Files []CardFile
	// Version is countersign's version.
	Version    string
	ExportedAt time.Time
	// Filter is what selected the documents, as the export's query
	// parameters.
	Filter map[string]string
}

// cardFront is the card's YAML front matter.
type cardFront struct {
	PrettyName  string       `yaml:"pretty_name"`
	Tags        []string     `yaml:"tags"`
	Configs     []cardConfig `yaml:"configs"`
	Countersign cardLineage  `yaml:"countersign"`
}

type cardConfig struct {
	ConfigName string         `yaml:"config_name"`
	DataFiles  []cardDataFile `yaml:"data_files"`
}

type cardDataFile struct {
	Split string `yaml:"split"`
	Path  string `yaml:"path"`
}

// cardLineage is where the data came from. The guideline a line was
// written under is the one of its task type version: the version is the
// hash of the task type file, guideline included.
type cardLineage struct {
	Version    string             `yaml:"version"`
	ExportedAt string             `yaml:"exported_at"`
	Filter     map[string]string  `yaml:"filter"`
	Files      map[string]Summary `yaml:"files"`
	// Features are each file's top-level fields and their types, for
	// people: the datasets library infers its own from the lines.
	Features map[string][]Feature `yaml:"features"`
}

// Write writes the card: YAML front matter, then the same in words.
func (c *Card) Write(w io.Writer) error {
	front := cardFront{
		PrettyName: "countersign export",
		Tags:       []string{"countersign", "human-feedback"},
		Configs:    []cardConfig{},
		Countersign: cardLineage{
			Version: c.Version, ExportedAt: c.ExportedAt.UTC().Format(time.RFC3339),
			Filter: c.Filter, Files: map[string]Summary{}, Features: map[string][]Feature{},
		},
	}
	if front.Countersign.Filter == nil {
		front.Countersign.Filter = map[string]string{}
	}
	var taskTypes []string
	for _, f := range c.Files {
		front.Countersign.Files[f.Path] = f.Summary
		if len(f.Features) > 0 {
			front.Countersign.Features[f.Path] = f.Features
		}
		for _, tt := range f.Summary.TaskTypes {
			taskTypes = addDistinct(taskTypes, tt)
		}
		if f.Summary.Lines > 0 {
			front.Configs = append(front.Configs, cardConfig{ConfigName: f.Config, DataFiles: []cardDataFile{{Split: "train", Path: f.Path}}})
		}
	}
	if len(taskTypes) > 0 {
		front.PrettyName += " (" + strings.Join(taskTypes, ", ") + ")"
	}
	var raw strings.Builder
	enc := yaml.NewEncoder(&raw)
	enc.SetIndent(2)
	if err := enc.Encode(&front); err != nil {
		return fmt.Errorf("dataset card: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---\n%s---\n\n# %s\n\n", raw.String(), front.PrettyName)
	b.WriteString("Decisions people made on drafts in countersign, exported for training. ")
	b.WriteString("Each line's `metadata` traces it to its document, task type version (which fixes the guideline), policy, model, prompt and reviewers.\n\n")
	b.WriteString("| configuration | file | lines | task types | task type versions (guidelines) | policy versions | models | prompt versions |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, f := range c.Files {
		config := f.Config
		if f.Summary.Lines == 0 {
			config += " (empty, not written)"
		}
		s := f.Summary
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", config, f.Path, s.Lines,
			list(s.TaskTypes), list(s.TaskTypeVersions), list(s.PolicyVersions), list(s.Models), list(s.PromptVersions))
	}
	fmt.Fprintf(&b, "\nExported %s by countersign %s", front.Countersign.ExportedAt, c.Version)
	if len(c.Filter) > 0 {
		keys := make([]string, 0, len(c.Filter))
		for k := range c.Filter {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = k + "=" + c.Filter[k]
		}
		fmt.Fprintf(&b, ", selected by %s", strings.Join(keys, ", "))
	}
	b.WriteString(".\n")
	for _, f := range c.Files {
		if f.Summary.Lines == 0 || len(f.Features) == 0 {
			continue
		}
		names := make([]string, len(f.Features))
		for i, ft := range f.Features {
			names[i] = "`" + ft.Name + "` (" + ft.Type + ")"
		}
		fmt.Fprintf(&b, "\n%s: %s.\n", f.Path, strings.Join(names, ", "))
	}
	b.WriteString("\n```python\nfrom datasets import load_dataset\n")
	for _, cfg := range front.Configs {
		fmt.Fprintf(&b, "%s = load_dataset(\"path/to/this/folder\", %q, split=\"train\")\n", strings.ReplaceAll(cfg.ConfigName, "-", "_"), cfg.ConfigName)
	}
	b.WriteString("```\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func list(values []string) string {
	if len(values) == 0 {
		return "–"
	}
	return strings.Join(values, ", ")
}
