package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
	"github.com/countersign/countersign/internal/rest"
)

// ExportErrorTrailer is the HTTP trailer that says an export failed after
// it had started streaming.
const ExportErrorTrailer = "X-Countersign-Export-Error"

// exportData streams labeled data from decided documents: SFT or preference
// JSONL, CSV of field decisions, an evaluation set, Label Studio tasks or
// Argilla records.
func (h *handlers) exportData(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, err := export.ParseFormat(q.Get("format"))
	if err != nil {
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "%v", err))
		return
	}
	f := export.Filter{TaskType: q.Get("task_type")}
	if f.TaskType != "" {
		if _, err := h.Dispatch.TaskTypes.Get(f.TaskType); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if name := q.Get("batch"); name != "" {
		if f.Batch, err = batchParam(name); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		h.fail(w, r, err)
		return
	}
	for name, into := range map[string]*bool{"human_only": &f.HumanOnly, "exclude_flagged": &f.ExcludeFlagged} {
		if raw := q.Get(name); raw != "" {
			v, err := strconv.ParseBool(raw)
			if err != nil {
				h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "%s must be true or false, not %q", name, raw))
				return
			}
			*into = v
		}
	}
	contentType := "application/x-ndjson"
	switch format {
	case export.CSV:
		contentType = "text/csv; charset=utf-8"
	case export.LabelStudio:
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", exportName(f, format)))
	guidelines := func(ctx context.Context, version string) (*countersign.TaskType, error) {
		return h.Dispatch.Resolver.Version(ctx, version)
	}
	// The status line is sent with the first byte: a failure after that is
	// told in a trailer, and the log says why.
	w.Header().Set("Trailer", ExportErrorTrailer)
	out := &countingWriter{w: w}
	counts, err := export.Run(r.Context(), h.Store, guidelines, f, format, out, nil)
	if err != nil && out.n == 0 {
		// Nothing was sent yet: answer with a proper error status.
		for _, name := range []string{"Trailer", "Content-Disposition"} {
			w.Header().Del(name)
		}
		h.fail(w, r, err)
		return
	}
	if err != nil {
		h.Logger.Error("export failed", "format", format, "exported", counts.Exported, "error", err)
		message := rest.InternalMessage
		if countersign.ErrorCode(err) != countersign.CodeInternal {
			message = err.Error()
		}
		w.Header().Set(ExportErrorTrailer, message)
	}
}

// countingWriter counts the bytes that reached the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func exportName(f export.Filter, format export.Format) string {
	name := "countersign"
	if f.TaskType != "" {
		name += "-" + f.TaskType
	}
	if f.Batch != "" {
		// A batch name has no character a file name or the header's
		// quotes would mind (countersign.CheckBatchName), but ':'.
		name += "-" + strings.ReplaceAll(f.Batch, ":", "_")
	}
	ext := ".jsonl"
	switch format {
	case export.CSV:
		ext = ".csv"
	case export.LabelStudio:
		ext = ".json"
	}
	return name + "-" + string(format) + ext
}
