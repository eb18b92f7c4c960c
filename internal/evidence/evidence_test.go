package evidence

import "testing"

func TestLocate(t *testing.T) {
	const doc = "Invoice for  Jürgen   MÜLLER,\ndated 12 May 2025."
	cases := []struct {
		quote string
		want  Span
		match Match
		text  string // the document's characters at the span
	}{
		{"Jürgen", Span{13, 19}, Exact, "Jürgen"},
		{"jürgen müller", Span{13, 28}, Folded, "Jürgen   MÜLLER"},
		{"  MÜLLER, dated  ", Span{22, 35}, Folded, "MÜLLER,\ndated"},
		{"12 May 2025.", Span{36, 48}, Exact, "12 May 2025."},
		{"Hans Meier", Span{}, None, ""},
		{"   ", Span{}, None, ""},
	}
	runes := []rune(doc)
	for _, c := range cases {
		got, match := Locate(doc, c.quote)
		if got != c.want || match != c.match {
			t.Errorf("Locate(%q) = %v %v, want %v %v", c.quote, got, match, c.want, c.match)
			continue
		}
		if match != None && string(runes[got.Start:got.End]) != c.text {
			t.Errorf("Locate(%q) spans %q, want %q", c.quote, string(runes[got.Start:got.End]), c.text)
		}
	}
}

func TestFold(t *testing.T) {
	if got := Fold("  Hello \t\n WORLD  "); got != "hello world" {
		t.Fatalf("Fold = %q", got)
	}
}
