package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// funcs are the helpers the templates use.
func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		"static":  func(name string) string { return "/ui/static/" + name + "?v=" + h.staticVersion },
		"when":    when,
		"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"span":    span2words,
		"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"score":   score,
		"short":   shortHash,
		"shortID": shortID,
		"join":    strings.Join,
		"seconds": func(s float64) string {
			return span2words(time.Duration(s * float64(time.Second)))
		},
	}
}

// score is a confidence as the pages show it, to two decimals; one that is
// not certain never shows as certain (a learned confidence of 0.998 is
// ">0.99", not "1.00"), nor one above 0 as 0.
func score(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	switch {
	case s == "1.00" && f < 1:
		return ">0.99"
	case s == "0.00" && f > 0:
		return "<0.01"
	}
	return s
}

// when is a time as the pages show it, in UTC to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// span2words says a duration in its two largest units: "3d 4h", "2h 5m",
// "40s". Negative durations are said as their size.
func span2words(d time.Duration) string {
	d = time.Duration(math.Abs(float64(d)))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// shortID shortens a review ID ("<32 hex digits>-r1") for a list, keeping
// its start and its review number; the whole ID is in the link.
func shortID(id string) string {
	doc, n, ok := strings.Cut(id, "-")
	if len(doc) <= 14 {
		return id
	}
	if !ok {
		return doc[:12] + "…"
	}
	return doc[:12] + "…-" + n
}
