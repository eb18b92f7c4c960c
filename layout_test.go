package countersign_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

// TestPageOf: a character's page is told from the text alone, by the page
// separators before it, counting in code points.
func TestPageOf(t *testing.T) {
	text := "Zoë signs\nhere" + countersign.PageSeparator + "Term: 12 months" + countersign.PageSeparator + "Law"
	runes := []rune(text)
	at := func(s string) int { return len([]rune(text[:strings.Index(text, s)])) }
	for _, tc := range []struct {
		offset, page int
	}{
		{0, 1}, {at("signs"), 1}, {at("here"), 1}, {at("Term"), 2}, {at("months"), 2}, {at("Law"), 3}, {len(runes) - 1, 3},
		{len(runes), 0}, {-1, 0},
	} {
		if got := countersign.PageOf(text, tc.offset); got != tc.page {
			t.Errorf("PageOf(%d) = %d; want %d", tc.offset, got, tc.page)
		}
	}
}
