// Package evidence finds a quote in a document: verbatim, or after folding
// case and white space, with its place in characters (Unicode code points).
package evidence

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match is how a quote was found.
type Match int

// Matches, best first.
const (
	None   Match = iota // not in the document
	Folded              // only after folding case and runs of white space
	Exact               // verbatim
)

// Span is where a quote stands, in characters, end exclusive.
type Span struct {
	Start, End int
}

// Locate finds quote in content: its first verbatim occurrence, or else the
// first occurrence after folding case and white space on both sides. The span
// is in content's characters, so a folded match is still highlighted where
// the document has it.
func Locate(content, quote string) (Span, Match) {
	quote = strings.TrimSpace(quote)
	if quote == "" {
		return Span{}, None
	}
	if i := strings.Index(content, quote); i >= 0 {
		start := utf8.RuneCountInString(content[:i])
		return Span{Start: start, End: start + utf8.RuneCountInString(quote)}, Exact
	}
	folded, origin := foldWithOrigin(content)
	needle := Fold(quote)
	i := strings.Index(folded, needle)
	if i < 0 || needle == "" {
		return Span{}, None
	}
	from := origin[i]
	to := origin[i+len(needle)-1]
	_, size := utf8.DecodeRuneInString(content[to:])
	return Span{Start: utf8.RuneCountInString(content[:from]), End: utf8.RuneCountInString(content[:to+size])}, Folded
}

// Fold lowercases s, folds every run of white space into one space and trims
// it.
func Fold(s string) string {
	folded, _ := foldWithOrigin(s)
	return folded
}

// foldWithOrigin folds s as Fold does and returns, for every byte of the
// result, the byte offset in s of the character it came from.
func foldWithOrigin(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	origin := make([]int, 0, len(s))
	pendingSpace := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if b.Len() > 0 && pendingSpace < 0 {
				pendingSpace = i
			}
			continue
		}
		if pendingSpace >= 0 {
			b.WriteByte(' ')
			origin = append(origin, pendingSpace)
			pendingSpace = -1
		}
		lower := unicode.ToLower(r)
		n := utf8.RuneLen(lower)
		if n < 0 {
			lower, n = utf8.RuneError, 3
		}
		b.WriteRune(lower)
		for range n {
			origin = append(origin, i)
		}
	}
	return b.String(), origin
}
