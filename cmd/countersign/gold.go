package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign/internal/interop"
	"github.com/countersign/countersign/internal/tasktype"
)

func newGold() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gold",
		Short: "Gold items: documents with known answers that measure reviewers",
		Long: `Gold items are documents with known answers that a task type lists under
gold.items and slips into the review queue (see countersign reviewers).`,
	}
	cmd.AddCommand(newGoldImport())
	return cmd
}

// goldItemYAML is a gold item as a task type file writes it.
type goldItemYAML struct {
	ID      string         `yaml:"id"`
	Content string         `yaml:"content"`
	Answer  map[string]any `yaml:"answer"`
}

func newGoldImport() *cobra.Command {
	var (
		format, typeFile, textKey, output string
	)
	cmd := &cobra.Command{
		Use:   "import --format label-studio|argilla [--task-type-file FILE] FILE",
		Short: "Turn annotated Label Studio tasks or Argilla records into gold items for a task type file",
		Long: `Reads a labeling tool's export and writes gold items, as YAML to put under
gold.items of a task type file:

  label-studio  Label Studio's JSON tasks (its JSON export, or one task a line).
                The text is data.text; the answer is the annotation's results:
                a TextArea's text, a Choices' choice (a list when several),
                a Number's, Rating's or DateTime's value, each under its
                from_name. Labels spans are checked against the text and not
                taken as answers. Cancelled annotations are left out; where
                several annotations disagree, the one marked ground_truth wins.
  argilla       Argilla 2 records (Record.to_dict: one a line, or its to_json
                array). The text is fields.text; the answer is the submitted
                responses (or those without a status), by question; people who
                answered a question must agree.

The item ID is the task's data.document_id or the record's id (what
countersign export writes), else "ls-" and the task's id; it is lowercased
with dashes where needed. Tasks and records without an answer are skipped and
counted.

With --task-type-file, text answers are read by the task type's fields
schema (a string field keeps "42" as text, a number field reads it as 42),
every answer must fit the schema, and IDs the file's gold items use are
refused. Without it, text that is JSON other than a string is read as JSON.
Any problem stops the import with an error naming the task or record and the
field; nothing is written then.

FILE may be - for standard input. Needs no server.`,
		Example: `  countersign export --format label-studio --type contract-review -o tasks.json
  # ... correct the answers in Label Studio, export its JSON ...
  countersign gold import --format label-studio --task-type-file examples/contract-review/tasktype.yaml project-3.json -o gold.yaml
  countersign gold import --format argilla --text-key prompt records.jsonl`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := interop.ParseFormat(format)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			opts := interop.GoldOptions{TextKey: textKey}
			if typeFile != "" {
				src, err := os.ReadFile(typeFile)
				if err != nil {
					return err
				}
				tt, err := tasktype.Parse(src, typeFile)
				if err != nil {
					return err
				}
				opts.Schema = tt.Schema
				for _, g := range tt.Gold {
					opts.Taken = append(opts.Taken, g.ID)
				}
			}
			in := cmd.InOrStdin()
			if name := args[0]; name != "-" {
				file, err := os.Open(name)
				if err != nil {
					return err
				}
				defer file.Close()
				in = file
			}
			res, err := interop.ReadGold(in, f, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			items := make([]goldItemYAML, len(res.Items))
			for i, g := range res.Items {
				items[i] = goldItemYAML{ID: g.ID, Content: g.Content, Answer: g.Answer}
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "# %d gold items from %s (%s), for gold.items of a task type file\n", len(items), args[0], f)
			enc := yaml.NewEncoder(&b)
			enc.SetIndent(2)
			if err := enc.Encode(items); err != nil {
				return err
			}
			if err := enc.Close(); err != nil {
				return err
			}
			if output != "" {
				err = os.WriteFile(output, b.Bytes(), 0o644)
			} else {
				_, err = cmd.OutOrStdout().Write(b.Bytes())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d gold items read, %d tasks or records skipped without an answer\n", len(items), res.Skipped)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "label-studio or argilla (required)")
	cmd.Flags().StringVar(&typeFile, "task-type-file", "", "the task type file the items are for: read and check answers by its fields schema")
	cmd.Flags().StringVar(&textKey, "text-key", "text", "the key of the document text in a task's data or a record's fields")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the YAML to this file instead of standard output")
	return cmd
}
