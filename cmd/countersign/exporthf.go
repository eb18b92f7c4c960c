package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/export"
)

// hfFormat is the export that the CLI assembles from two of the server's:
// a folder for Hugging Face datasets (internal/export/card.go).
const hfFormat = "hf"

// hfFile is one file of an hf export: its configuration name (its file is
// NAME.jsonl) and the server's format it holds.
type hfFile struct {
	config string
	format export.Format
}

// The layouts of an hf export: of extractions, SFT and preference pairs of
// drafts and corrections; of comparison items, the pairwise preferences
// and ranked lists their rankings make and SFT from the improved
// responses people wrote.
var (
	hfFiles           = []hfFile{{"sft", export.SFT}, {"preference", export.Preference}}
	hfComparisonFiles = []hfFile{{"pairwise", export.Pairwise}, {"ranked", export.Ranked}, {"sft", export.Improved}}
)

// exportHF writes the exports selected by filter into dir, then the
// dataset card that describes them. The ranked export comes first: when
// it has lines, the selection holds comparison items and the folder gets
// their layout (hfComparisonFiles), else the extractions' (hfFiles). A
// selection of comparison items and other documents is refused (with no
// --type the sft export counts them): the two layouts' sft files differ.
// It refuses a folder that already holds one of its files, so an earlier
// export is never mixed with or overwritten by a new one. A format with no
// lines leaves no file: the datasets library cannot load an empty one.
func exportHF(cmd *cobra.Command, c *apiclient.Client, filter url.Values, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range hfNames() {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return exitError{code: 2, err: fmt.Errorf("%s already has %s: give a new or empty folder for --format hf", dir, name)}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	progress := cmd.ErrOrStderr()
	card := &export.Card{Version: version, ExportedAt: time.Now(), Filter: map[string]string{}}
	for k := range filter {
		card.Filter[k] = filter.Get(k)
	}
	written := map[string]export.Summary{}
	write := func(f hfFile) (export.Summary, error) {
		if s, ok := written[f.config+"/"+string(f.format)]; ok {
			return s, nil
		}
		path := filepath.Join(dir, f.config+".jsonl")
		q := url.Values{}
		for k, v := range filter {
			q[k] = v
		}
		q.Set("format", string(f.format))
		summary, err := exportFile(cmd, c, q, path)
		if err != nil {
			return summary, friendly(err)
		}
		if summary.Lines == 0 {
			if err := os.Remove(path); err != nil {
				return summary, err
			}
		}
		written[f.config+"/"+string(f.format)] = summary
		return summary, nil
	}
	files := hfFiles
	ranked, err := write(hfComparisonFiles[1])
	if err != nil {
		return err
	}
	if ranked.Lines > 0 {
		files = hfComparisonFiles
		if filter.Get("task_type") == "" {
			all, err := write(hfFile{"sft", export.SFT})
			if err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(dir, "sft.jsonl")); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			delete(written, "sft/"+string(export.SFT))
			if all.Lines != ranked.Lines {
				_ = os.Remove(filepath.Join(dir, "ranked.jsonl"))
				return exitError{code: 2, err: fmt.Errorf("the selection holds %d comparison items (%s) and %d other documents, whose hf layouts differ: export each with --type",
					ranked.Lines, strings.Join(ranked.TaskTypes, ", "), all.Lines-ranked.Lines)}
			}
		}
	}
	for _, f := range files {
		summary, err := write(f)
		if err != nil {
			return err
		}
		name := f.config + ".jsonl"
		fmt.Fprintf(progress, "%d %s lines written to %s\n", summary.Lines, f.format, filepath.Join(dir, name))
		card.Files = append(card.Files, export.CardFile{Config: f.config, Path: name, Summary: summary, Features: export.Features(f.format)})
	}
	readme := filepath.Join(dir, "README.md")
	f, err := os.Create(readme)
	if err != nil {
		return err
	}
	err = card.Write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "dataset card written to %s\n", readme)
	return nil
}

// exportFile streams one export into path and sums it up.
func exportFile(cmd *cobra.Command, c *apiclient.Client, q url.Values, path string) (export.Summary, error) {
	f, err := os.Create(path)
	if err != nil {
		return export.Summary{}, err
	}
	progress := cmd.ErrOrStderr()
	_, err = c.Export(cmd.Context(), q, f, func(n int) {
		fmt.Fprintf(progress, "\rexported %d %s lines", n, q.Get("format"))
	})
	fmt.Fprintln(progress)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return export.Summary{}, err
	}
	f, err = os.Open(path)
	if err != nil {
		return export.Summary{}, err
	}
	defer f.Close()
	summary, err := export.Summarize(f)
	if err != nil {
		return summary, fmt.Errorf("%s: %w", path, err)
	}
	return summary, nil
}

// hfNames are the files an hf export may write, of either layout.
func hfNames() []string {
	names := []string{"README.md"}
	for _, f := range append(slices.Clone(hfFiles), hfComparisonFiles...) {
		if name := f.config + ".jsonl"; !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
