package ocr

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/countersign/countersign"
)

// tsvColumns are the columns of Tesseract's TSV output, in order.
var tsvColumns = []string{"level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height", "conf", "text"}

// wordLevel is the level of a word's row in the TSV (1 page, 2 block,
// 3 paragraph, 4 line, 5 word).
const wordLevel = 5

// parseTSV reads Tesseract's TSV of one page into its text and words:
// words of a line joined by a space, lines by a line break, paragraphs and
// blocks by a blank line. Boxes are the pixels' times scale (points per
// pixel); confidences Tesseract's percentages as fractions.
func parseTSV(out []byte, scale float64) (countersign.PageText, error) {
	var page countersign.PageText
	var text strings.Builder
	chars := 0
	write := func(s string) {
		text.WriteString(s)
		chars += utf8.RuneCountInString(s)
	}
	type place struct{ block, par, line int }
	var last place
	first := true
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if line != strings.Join(tsvColumns, "\t") {
				return page, fmt.Errorf("ocr: Tesseract's TSV starts %q, not with its columns", clip(line))
			}
			continue
		}
		if line == "" {
			continue
		}
		cols := strings.SplitN(line, "\t", len(tsvColumns))
		if len(cols) != len(tsvColumns) {
			return page, fmt.Errorf("ocr: line %d of Tesseract's TSV has %d columns, not %d", n, len(cols), len(tsvColumns))
		}
		var v [11]float64
		for i := range v {
			f, err := strconv.ParseFloat(cols[i], 64)
			if err != nil {
				return page, fmt.Errorf("ocr: line %d of Tesseract's TSV: column %s is %q, not a number", n, tsvColumns[i], clip(cols[i]))
			}
			v[i] = f
		}
		word := strings.TrimSpace(cols[11])
		if int(v[0]) != wordLevel || word == "" || v[10] < 0 {
			continue
		}
		at := place{int(v[2]), int(v[3]), int(v[4])}
		switch {
		case first:
		case at.block != last.block || at.par != last.par:
			write("\n\n")
		case at.line != last.line:
			write("\n")
		default:
			write(" ")
		}
		first, last = false, at
		start := chars
		write(word)
		left, top, width, height := v[6], v[7], v[8], v[9]
		page.Words = append(page.Words, countersign.Word{
			Start: start, End: chars,
			Box:        countersign.Box{X0: left * scale, Y0: top * scale, X1: (left + width) * scale, Y1: (top + height) * scale},
			Confidence: min(max(v[10]/100, 0), 1),
		})
	}
	if err := sc.Err(); err != nil {
		return page, fmt.Errorf("ocr: read Tesseract's TSV: %w", err)
	}
	page.Text = text.String()
	return page, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
