package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/export"
)

// hfFormat is the export that the CLI assembles from two of the server's:
// a folder for Hugging Face datasets (internal/export/card.go).
const hfFormat = "hf"

// hfFiles are the formats an hf export holds, each in a file named after it.
var hfFiles = []export.Format{export.SFT, export.Preference}

// exportHF writes the SFT and preference exports selected by filter into
// dir, then the dataset card that describes them. It refuses a folder that
// already holds one of its files, so an earlier export is never mixed with
// or overwritten by a new one. A format with no lines leaves no file: the
// datasets library cannot load an empty one.
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
	for _, format := range hfFiles {
		name := string(format) + ".jsonl"
		path := filepath.Join(dir, name)
		q := url.Values{}
		for k, v := range filter {
			q[k] = v
		}
		q.Set("format", string(format))
		summary, err := exportFile(cmd, c, q, path)
		if err != nil {
			return friendly(err)
		}
		if summary.Lines == 0 {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
		fmt.Fprintf(progress, "%d %s lines written to %s\n", summary.Lines, format, path)
		card.Files = append(card.Files, export.CardFile{Config: string(format), Path: name, Summary: summary})
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

// hfNames are the files an hf export writes.
func hfNames() []string {
	names := []string{"README.md"}
	for _, f := range hfFiles {
		names = append(names, string(f)+".jsonl")
	}
	return names
}
