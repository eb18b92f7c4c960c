package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
)

// overviewView is the overview page's data: one section per task type.
type overviewView struct {
	TaskTypes []string
	TaskType  string
	Sections  []overviewSection
}

// overviewSection is one task type's figures (internal/report, as
// GET /v1/stats computes them) and their charts.
type overviewSection struct {
	Report        *report.Report
	Statuses      barChart
	Corrections   barChart
	OldestPending time.Duration
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	names := h.TaskTypes.Names()
	selected := r.URL.Query().Get("task_type")
	v := overviewView{TaskTypes: names, TaskType: selected}
	if selected != "" {
		if !slices.Contains(names, selected) {
			h.fail(w, r, sess, countersign.Errorf(countersign.CodeNotFound, "There is no task type %q.", selected))
			return
		}
		names = []string{selected}
	}
	now := h.Now()
	for i, name := range names {
		rep, err := report.Build(r.Context(), h.Store, name, now)
		if err != nil {
			h.fail(w, r, sess, err)
			return
		}
		v.Sections = append(v.Sections, overviewSection{
			Report:        rep,
			Statuses:      statusChart(fmt.Sprintf("status-%d", i), rep),
			Corrections:   correctionChart(fmt.Sprintf("corrections-%d", i), rep),
			OldestPending: time.Duration(rep.Reviews.OldestPending * float64(time.Second)),
		})
	}
	h.render(w, r, http.StatusOK, "overview", "", view{Title: "Overview", Nav: "overview", Session: sess, Data: v})
}

// barChart is a horizontal bar chart laid out for an inline SVG: the
// server computes every coordinate, so the page needs no script to draw.
type barChart struct {
	ID     string
	Title  string
	Desc   string
	Height int
	// LabelWidth is where the axis stands, right of the labels.
	LabelWidth int
	Bars       []bar
}

// bar is one bar: its label (cut to fit; Full is the whole), its value in
// words, and its place.
type bar struct {
	Label, Full, Value   string
	Y, Width, TextY      int
	LabelX, BarX, ValueX int
}

// Chart geometry, in SVG user units; the chart scales to its box.
const (
	chartLabelWidth = 220
	chartBarMax     = 320
	chartRow        = 30
	chartBarHeight  = 20
	chartPad        = 6
	chartLabelChars = 24
)

// newBarChart lays out bars of values between 0 and max (at least 1).
func newBarChart(id, title, desc string, labels []string, values []float64, max float64, format func(float64) string) barChart {
	c := barChart{ID: id, Title: title, Desc: desc, Height: 2*chartPad + chartRow*len(labels), LabelWidth: chartLabelWidth}
	if max <= 0 {
		max = 1
	}
	for i, label := range labels {
		y := chartPad + i*chartRow
		width := int(math.Round(values[i] / max * chartBarMax))
		short := label
		if r := []rune(label); len(r) > chartLabelChars {
			short = string(r[:chartLabelChars-1]) + "…"
		}
		c.Bars = append(c.Bars, bar{
			Label: short, Full: label, Value: format(values[i]),
			Y: y + (chartRow-chartBarHeight)/2, Width: width, TextY: y + chartRow/2 + 5,
			LabelX: chartLabelWidth - 8, BarX: chartLabelWidth, ValueX: chartLabelWidth + width + 6,
		})
	}
	return c
}

// statusChart is the documents of a report by status, in the order a
// document moves through them.
func statusChart(id string, rep *report.Report) barChart {
	statuses := []countersign.Status{countersign.StatusProcessing, countersign.StatusAwaitingReview, countersign.StatusAccepted, countersign.StatusRejected, countersign.StatusFailed}
	labels := make([]string, len(statuses))
	values := make([]float64, len(statuses))
	most := 0.0
	for i, s := range statuses {
		labels[i] = string(s)
		values[i] = float64(rep.Statuses[s])
		most = max(most, values[i])
	}
	return newBarChart(id, "Documents of "+rep.TaskType+" by status",
		fmt.Sprintf("%d documents in all", rep.Documents), labels, values, most,
		func(v float64) string { return fmt.Sprintf("%.0f", v) })
}

// correctionChart is, per field, the share of the values people checked
// that they corrected.
func correctionChart(id string, rep *report.Report) barChart {
	var labels []string
	var values []float64
	for _, f := range rep.Fields {
		labels = append(labels, f.Field)
		values = append(values, f.CorrectionRate)
	}
	return newBarChart(id, "Correction rate by field, "+rep.TaskType,
		"Share of each field's checked values that a person corrected", labels, values, 1,
		func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) })
}
