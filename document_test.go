package countersign_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/countersign/countersign"
)

func TestCorrectAndDiff(t *testing.T) {
	draft := countersign.Fields{"a": "x", "b": 1.0, "c": true}
	final := countersign.Correct(draft, countersign.Fields{"b": 2, "c": nil, "d": "new"})
	if draft["c"] != true || len(draft) != 3 {
		t.Fatal("Correct changed the draft")
	}
	diff := countersign.Diff(draft, final)
	want := []struct {
		field  string
		change countersign.Change
	}{{"a", countersign.ChangeUnchanged}, {"b", countersign.ChangeCorrected}, {"c", countersign.ChangeRemoved}, {"d", countersign.ChangeAdded}}
	if len(diff) != len(want) {
		t.Fatalf("diff = %+v", diff)
	}
	for i, w := range want {
		if diff[i].Field != w.field || diff[i].Change != w.change {
			t.Fatalf("diff[%d] = %+v, want %s %s", i, diff[i], w.field, w.change)
		}
	}
	if !countersign.SameValue(1.0, 1) || countersign.SameValue("1", 1) {
		t.Fatal("SameValue compares JSON values")
	}
}

func TestErrorCodes(t *testing.T) {
	cause := errors.New("disk full")
	err := fmt.Errorf("submit: %w", countersign.Errorf(countersign.CodeConflict, "document %s: %w", "d1", cause))
	if !errors.Is(err, countersign.ErrConflict) || errors.Is(err, countersign.ErrNotFound) {
		t.Fatal("errors.Is does not follow the code")
	}
	if !errors.Is(err, cause) {
		t.Fatal("the wrapped cause is lost")
	}
	if countersign.ErrorCode(err) != countersign.CodeConflict || countersign.ErrorCode(cause) != countersign.CodeInternal {
		t.Fatal("ErrorCode")
	}
	if err.Error() != "submit: document d1: disk full" {
		t.Fatalf("message = %q", err.Error())
	}
}

func TestDocumentIDs(t *testing.T) {
	byContent := countersign.DocumentID("contracts", "", "text")
	if byContent != countersign.DocumentID("contracts", "", "text") || byContent == countersign.DocumentID("claims", "", "text") {
		t.Fatal("content IDs are per task type and stable")
	}
	if countersign.DocumentID("contracts", "A-1", "v1") != countersign.DocumentID("contracts", "A-1", "v2") {
		t.Fatal("an external ID identifies the document whatever its content")
	}
	if len(byContent) != 32 {
		t.Fatalf("ID %q is not 32 hex digits", byContent)
	}
}

func TestCompareConfidenceAndValueText(t *testing.T) {
	low, high := 0.2, 0.9
	scores := []*float64{&high, nil, &low}
	slices.SortStableFunc(scores, countersign.CompareConfidence)
	if scores[0] != nil || scores[1] != &low || scores[2] != &high {
		t.Fatalf("order = %v %v %v, want none, 0.2, 0.9", scores[0], scores[1], scores[2])
	}
	for v, want := range map[any]string{nil: "", "Acme": "Acme", 24.0: "24", 1e21: "1000000000000000000000", true: "true"} {
		if got := countersign.ValueText(v); got != want {
			t.Errorf("ValueText(%v) = %q, want %q", v, got, want)
		}
	}
	if got := countersign.ValueText([]any{"a", 1.0}); got != `["a",1]` {
		t.Errorf("ValueText(list) = %q", got)
	}
}

func TestScorePair(t *testing.T) {
	for _, c := range []struct {
		a, b   float64
		sa, sb string
	}{
		{0.82, 0.9, "0.82", "0.90"},
		{0.994, 0.995, "0.994", "0.995"},
		{0.9, 0.9, "0.90", "0.90"},
		{0.99951, 0.9995, "0.99951", "0.99950"},
		{0.1234567, 0.1234568, "0.123457", "0.123457"},
	} {
		if sa, sb := countersign.ScorePair(c.a, c.b); sa != c.sa || sb != c.sb {
			t.Errorf("ScorePair(%v, %v) = %s, %s; want %s, %s", c.a, c.b, sa, sb, c.sa, c.sb)
		}
	}
}
