package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/interop"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/tasktype"
)

func newSubmit() *cobra.Command {
	var (
		cf          clientFlags
		taskType    string
		batch       string
		idFromName  bool
		meta        []string
		wait        string
		timeout     time.Duration
		concurrency int
		from        string
		textKey     string
		typeFile    string
	)
	cmd := &cobra.Command{
		Use:   "submit --type TASK_TYPE FILE|DIR|- ...",
		Short: "Submit documents for review",
		Long: `Submits documents for review under a task type and prints, per document, its
ID, its status and where it came from (tab-separated, one line each).

Each argument is a text or PDF file (a file starting with %PDF-, whatever its
name, goes as a PDF: the server reads its text layer), a folder (every file in it, recursively, sorted),
a .jsonl file (one document per line: {"content", "external_id"?, "metadata"?,
"batch"?}),
or - for standard input (one document, or JSONL with --jsonl semantics when the
first character is "{"). Progress goes to standard error.

With --wait=routed, each line comes once the document is past the engine:
accepted, rejected or failed, or awaiting_review with the ID of the review a
person must decide as a fourth column ("countersign review show" it). With
--wait (--wait=final), once it is accepted, rejected or failed, reviews
included.

A document's ID comes from its external ID when it has one, else from its
content, so submitting the same document again returns the same document.
For a task type of JSON alerts (input: {format: json}), each file is one
alert (a .json file, a folder of them) and the alert's own ID is its
external ID, so an alert sent twice is one document; on standard input a
first "{" means JSONL, so give alerts as files.
A failed submission is reported and the others go on; the exit status is then 1.

With --batch NAME, every document is submitted in that batch (a JSONL line
that names its own batch keeps it); "countersign batch status NAME" shows its
progress. A document submitted before stays in the batch it was first
submitted in.
A submission the API refuses for the token's rate (429) is sent again after
the wait the API asks for.

With --from label-studio or --from argilla, each FILE is that tool's export
(Label Studio's JSON tasks, Argilla 2 records) and each task or record is a
document: its text (data.text, fields.text, or --text-key), its external ID
(data.external_id or the task's id; the record's external_id or id), and its
pre-label, the tool's prediction with the highest score (its TextArea,
Choices and other results by from_name, "evidence" spans labelled with a
field's name as that field's evidence) or the record's suggestions. A
pre-labelled document is not drafted by a model: the pre-label is its
draft, scored like any other, and a person always reviews it. A task or
record without one is drafted as usual. With --task-type-file, text values
are read by the task type's fields schema ("42" stays text for a string
field). The server checks every pre-label against the task type and refuses
one that does not fit (422, naming the field).`,
		Example: `  countersign submit --type contract-review examples/contract-review/samples
  countersign submit --type pii-extraction --wait=routed examples/pii-extraction/samples
  countersign submit --type contract-review --batch data-room-7 contracts/
  countersign submit --type pii-extraction --wait examples/pii-extraction/samples/email-maria-gonzalez.txt
  cat claims.jsonl | countersign submit --type pii-extraction -
  countersign submit --type soc-alert-triage --wait=routed examples/soc-alert-triage/samples
  countersign submit --type contract-review --from label-studio --wait=routed project-3.json`,
		Args: usage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if taskType == "" {
				return exitError{code: 2, err: errors.New("--type is required: the task type to review the documents under")}
			}
			until, err := waitUntil(wait)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			metadata, err := parseMeta(meta)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if batch != "" {
				if err := countersign.CheckBatchName(batch); err != nil {
					return exitError{code: 2, err: fmt.Errorf("--batch: %w", err)}
				}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var docs []pending
			if from != "" {
				docs, err = collectPrelabelled(args, cmd.InOrStdin(), from, textKey, typeFile)
			} else {
				docs, err = collect(args, cmd.InOrStdin(), idFromName)
			}
			if err != nil {
				return err
			}
			for i := range docs {
				docs[i].sub.TaskType = taskType
				if docs[i].sub.Batch == "" {
					docs[i].sub.Batch = batch
				}
				for k, v := range metadata {
					if docs[i].sub.Metadata == nil {
						docs[i].sub.Metadata = map[string]string{}
					}
					docs[i].sub.Metadata[k] = v
				}
			}
			return submitAll(cmd.Context(), c, docs, submitOptions{
				concurrency: concurrency, wait: until, timeout: timeout,
				out: cmd.OutOrStdout(), progress: cmd.ErrOrStderr(),
			})
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVarP(&taskType, "type", "t", "", "task type to review the documents under (required)")
	cmd.Flags().StringVar(&batch, "batch", "", "submit every document in this batch: 1 to 128 letters, digits, '.', '_', ':' or '-'")
	cmd.Flags().StringVar(&from, "from", "", "read FILEs as a labeling tool's export, with pre-labels: label-studio or argilla")
	cmd.Flags().StringVar(&textKey, "text-key", "text", "with --from: the key of the document text in a task's data or a record's fields")
	cmd.Flags().StringVar(&typeFile, "task-type-file", "", "with --from: read pre-label values by this task type file's fields schema")
	cmd.Flags().BoolVar(&idFromName, "id-from-filename", false, "use each file's name as its external ID (default: documents are identified by content)")
	cmd.Flags().StringArrayVar(&meta, "meta", nil, "metadata KEY=VALUE for every document (repeatable)")
	cmd.Flags().StringVar(&wait, "wait", "", "wait before printing each document: final (the same as --wait alone) until it is accepted, rejected or failed, reviews included; routed until then or waiting for a person")
	cmd.Flags().Lookup("wait").NoOptDefVal = "final"
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "with --wait, how long to wait")
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "documents submitted at once")
	return cmd
}

type pending struct {
	source string
	sub    wire.SubmitRequest
}

// collectPrelabelled reads the documents of labeling tools' exports, each
// with the pre-label the tool holds for it (interop.ReadPrelabels).
func collectPrelabelled(args []string, stdin io.Reader, from, textKey, typeFile string) ([]pending, error) {
	format, err := interop.ParseFormat(from)
	if err != nil {
		return nil, exitError{code: 2, err: fmt.Errorf("--from: %w", err)}
	}
	opts := interop.GoldOptions{TextKey: textKey}
	if typeFile != "" {
		src, err := os.ReadFile(typeFile)
		if err != nil {
			return nil, err
		}
		tt, err := tasktype.Parse(src, typeFile)
		if err != nil {
			return nil, err
		}
		opts.Schema = tt.Schema
	}
	var docs []pending
	for _, arg := range args {
		in := stdin
		if arg != "-" {
			file, err := os.Open(arg)
			if err != nil {
				return nil, err
			}
			defer file.Close()
			in = file
		}
		err := interop.ReadPrelabels(in, format, opts, func(p interop.Prelabelled) error {
			docs = append(docs, pending{source: arg + ": " + p.At, sub: wire.SubmitRequest{ExternalID: p.ExternalID, Content: p.Content, Prelabel: p.Prelabel}})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
	}
	return docs, nil
}

func parseMeta(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--meta %q: use KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

// collect reads every document named by the arguments.
func collect(args []string, stdin io.Reader, idFromName bool) ([]pending, error) {
	var docs []pending
	for _, arg := range args {
		if arg == "-" {
			raw, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("standard input: %w", err)
			}
			if strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
				lines, err := readJSONL(strings.NewReader(string(raw)), "stdin")
				if err != nil {
					return nil, err
				}
				docs = append(docs, lines...)
				continue
			}
			docs = append(docs, pending{source: "stdin", sub: fileRequest(raw)})
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		var files []string
		if info.IsDir() {
			err := filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if strings.HasPrefix(d.Name(), ".") && path != arg {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				switch {
				case d.Type().IsRegular():
					files = append(files, path)
				case d.Type()&fs.ModeSymlink != 0:
					// A link to a file is submitted as the file is (named
					// directly it always was); one to a folder is not
					// followed, so a walk cannot loop.
					if target, err := os.Stat(path); err == nil && target.Mode().IsRegular() {
						files = append(files, path)
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			sort.Strings(files)
		} else {
			files = []string{arg}
		}
		for _, path := range files {
			more, err := readFile(path, idFromName)
			if err != nil {
				return nil, err
			}
			docs = append(docs, more...)
		}
	}
	if len(docs) == 0 {
		return nil, errors.New("no documents found in the arguments")
	}
	return docs, nil
}

func readFile(path string, idFromName bool) ([]pending, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".jsonl") && fileType(raw) == "" {
		return readJSONL(bytes.NewReader(raw), path)
	}
	p := pending{source: path, sub: fileRequest(raw)}
	p.sub.Metadata = map[string]string{"filename": filepath.Base(path)}
	if idFromName {
		p.sub.ExternalID = filepath.Base(path)
	}
	return []pending{p}, nil
}

// fileRequest is the request for one file: a PDF or an image (PNG, JPEG,
// TIFF), told by its first bytes whatever its name, goes as a file for the
// server to read; any other file as its text.
func fileRequest(raw []byte) wire.SubmitRequest {
	if t := fileType(raw); t != "" {
		return wire.SubmitRequest{ContentBase64: raw, ContentType: t}
	}
	return wire.SubmitRequest{Content: string(raw)}
}

// fileType is the media type of a file the server reads (a PDF, or an
// image it reads by OCR), told by its first bytes; "" for text.
func fileType(raw []byte) string {
	if pdfium.IsPDF(raw) {
		return countersign.ContentTypePDF
	}
	return ocr.Sniff(raw)
}

func readJSONL(r io.Reader, name string) ([]pending, error) {
	var docs []pending
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" {
			continue
		}
		var sub wire.SubmitRequest
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sub); err != nil {
			return nil, fmt.Errorf("%s:%d: not a document object ({\"content\", \"external_id\"?, \"metadata\"?, \"batch\"?}): %w", name, line, err)
		}
		docs = append(docs, pending{source: fmt.Sprintf("%s:%d", name, line), sub: sub})
	}
	return docs, scanner.Err()
}

// waitUntil reads --wait: nil for no waiting, else whether a status is
// one to stop waiting at.
func waitUntil(flag string) (func(countersign.Status) bool, error) {
	switch flag {
	case "", "false":
		return nil, nil
	case "final", "true":
		return countersign.Status.Final, nil
	case "routed":
		return func(s countersign.Status) bool { return s != countersign.StatusProcessing }, nil
	}
	return nil, fmt.Errorf("--wait=%s: use --wait (final: accepted, rejected or failed) or --wait=routed (also awaiting a person)", flag)
}

type submitOptions struct {
	concurrency int
	// wait, when not nil, says at which status to stop waiting.
	wait     func(countersign.Status) bool
	timeout  time.Duration
	out      io.Writer
	progress io.Writer
}

// submitAll submits the documents a few at a time, prints a line per
// document, and with wait polls each until its status is one wait says.
func submitAll(ctx context.Context, c *apiclient.Client, docs []pending, opts submitOptions) error {
	if opts.concurrency < 1 {
		opts.concurrency = 1
	}
	var (
		mu              sync.Mutex
		done, failed    int
		wg              sync.WaitGroup
		jobs            = make(chan pending)
		waitCtx, cancel = context.WithTimeout(ctx, opts.timeout)
	)
	defer cancel()
	// On a terminal a counter updates in place; elsewhere (a log, CI) only
	// errors and a summary are written.
	live := isTerminal(opts.progress)
	report := func(line string, err error) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if live {
			fmt.Fprint(opts.progress, "\r\033[K")
		}
		if err != nil {
			failed++
			fmt.Fprintf(opts.progress, "error: %s\n", line)
		} else {
			fmt.Fprintln(opts.out, line)
		}
		if live && done < len(docs) {
			fmt.Fprintf(opts.progress, "%d/%d documents", done, len(docs))
		}
	}
	for range opts.concurrency {
		wg.Go(func() {
			for p := range jobs {
				res, err := c.Submit(ctx, p.sub)
				if err != nil {
					report(fmt.Sprintf("%s: %v", p.source, friendly(err)), err)
					continue
				}
				line := fmt.Sprintf("%s\t%s\t%s", res.ID, res.Status, p.source)
				if opts.wait != nil {
					doc, err := c.WaitUntil(waitCtx, res.ID, 500*time.Millisecond, opts.wait)
					if err != nil {
						report(fmt.Sprintf("%s: %s: %v", p.source, res.ID, friendly(err)), err)
						continue
					}
					line = fmt.Sprintf("%s\t%s\t%s", res.ID, doc.Status, p.source)
					if doc.Status == countersign.StatusAwaitingReview && doc.Review != nil {
						line += "\t" + doc.Review.ID
					}
				}
				report(line, nil)
			}
		})
	}
	for _, p := range docs {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	if failed > 0 {
		return fmt.Errorf("%d of %d documents failed", failed, len(docs))
	}
	verb := "submitted"
	if opts.wait != nil {
		verb = "finished"
	}
	noun := "documents"
	if len(docs) == 1 {
		noun = "document"
	}
	fmt.Fprintf(opts.progress, "%s %d %s\n", verb, len(docs), noun)
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
