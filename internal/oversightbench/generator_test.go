package oversightbench

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/tasktype"
)

// loadTaskType loads the benchmark's task type as countersign does.
func loadTaskType(t testing.TB) *countersign.TaskType {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TaskType+".yaml"), TaskTypeYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := tasktype.LoadDir(dir)
	if err != nil {
		t.Fatalf("the claim-notice task type does not load: %v", err)
	}
	tt, err := reg.Get(TaskType)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b, other := NewGenerator(11), NewGenerator(11), NewGenerator(12)
	differs := 0
	for i := range 50 {
		x, y := a.Notice(i), b.Notice(i)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("notice %d differs between two generators of seed 11:\n%s\n---\n%s", i, x.Text, y.Text)
		}
		if other.Notice(i).Text != x.Text {
			differs++
		}
	}
	if differs < 50 {
		t.Errorf("seeds 11 and 12 gave the same text for %d of 50 notices", 50-differs)
	}
	if a.Notice(3).Text == a.Notice(4).Text {
		t.Error("notices 3 and 4 of one seed are the same")
	}
}

// writtenAs reads back a value from the way the document writes it.
func writtenAs(t *testing.T, kind Kind, text string) any {
	t.Helper()
	switch kind {
	case KindDate:
		for _, f := range dateFormats {
			if d, err := f.parse(text); err == nil {
				return d.Format(time.DateOnly)
			}
		}
		t.Fatalf("date %q is in none of the formats", text)
	case KindAmount:
		digits := strings.Trim(strings.NewReplacer(",", "", "USD", "", "EUR", "", "GBP", "", "$", "", "€", "", "£", "").Replace(text), " ")
		v, err := strconv.ParseFloat(digits, 64)
		if err != nil {
			t.Fatalf("amount %q: %v", text, err)
		}
		return v
	case KindCurrency:
		for code, symbol := range symbols {
			if strings.Contains(text, code) || strings.Contains(text, symbol) {
				return code
			}
		}
		t.Fatalf("amount %q has no currency", text)
	case KindIncident:
		for _, inc := range incidents {
			for _, p := range inc.phrases {
				if p == text {
					return inc.kind
				}
			}
		}
		for kind, sentences := range hints {
			for _, s := range sentences {
				if s == text {
					return kind
				}
			}
		}
		t.Fatalf("incident text %q is no known phrase", text)
	}
	return text
}

// TestTruthMatchesText holds every notice to what its text says: each
// stated value and each look-alike is written in it, and reads back as the
// value recorded; the truth is what is stated and fits the schema; a
// look-alike never has a stated value's value (except the loss and report
// dates, which may fall on the same day).
func TestTruthMatchesText(t *testing.T) {
	tt := loadTaskType(t)
	fields, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(5)
	rejected, withAmount := 0, 0
	const n = 2000
	for i := range n {
		notice := g.Notice(i)
		if notice.Reject != "" {
			rejected++
			if len(notice.Truth) != 0 {
				t.Fatalf("notice %d is to be rejected but has truth %v", i, notice.Truth)
			}
		} else {
			if err := fields.Validate(notice.Truth); err != nil {
				t.Fatalf("notice %d: the truth breaks the schema: %v\n%v", i, err, notice.Truth)
			}
			for name, m := range notice.Stated {
				if !countersign.Equivalent(notice.Truth[name], m.Value) {
					t.Fatalf("notice %d: %s truth %v, stated %v", i, name, notice.Truth[name], m.Value)
				}
			}
			if len(notice.Truth) != len(notice.Stated) {
				t.Fatalf("notice %d: truth %v, stated %v", i, notice.Truth, notice.Stated)
			}
			if _, ok := notice.Truth["amount_claimed"]; ok {
				withAmount++
			}
		}
		for name, m := range notice.Stated {
			if !strings.Contains(notice.Text, m.Text) {
				t.Fatalf("notice %d: %s written %q is not in the text:\n%s", i, name, m.Text, notice.Text)
			}
			if got := writtenAs(t, FieldKind[name], m.Text); !countersign.Equivalent(got, m.Value) {
				t.Fatalf("notice %d: %s %q reads as %v, recorded %v", i, name, m.Text, got, m.Value)
			}
		}
		for kind, mentions := range notice.Mentions {
			for _, m := range mentions {
				if !strings.Contains(notice.Text, m.Text) {
					t.Fatalf("notice %d: %s %s %q is not in the text", i, kind, m.Role, m.Text)
				}
				if got := writtenAs(t, kind, m.Text); kind != KindCurrency && !countersign.Equivalent(got, m.Value) {
					t.Fatalf("notice %d: %s %q reads as %v, recorded %v", i, m.Role, m.Text, got, m.Value)
				}
			}
		}
		for name, stated := range notice.Stated {
			for _, m := range notice.Mentions[FieldKind[name]] {
				sameDay := FieldKind[name] == KindDate && (m.Role == "loss date" || m.Role == "report date")
				if m.Role != stated.Role && !sameDay && countersign.Equivalent(m.Value, stated.Value) {
					t.Fatalf("notice %d: look-alike %s has the value of %s: %v", i, m.Role, name, m.Value)
				}
			}
		}
	}
	if rejected < n/100 || rejected > n/15 {
		t.Errorf("%d of %d documents are to be rejected; want about 3%%", rejected, n)
	}
	if withAmount < n*65/100 || withAmount > n*85/100 {
		t.Errorf("%d of %d notices state an amount; want about 75%%", withAmount, n)
	}
}

// TestNoticesHoldLookAlikes checks that look-alike errors are possible:
// most notices write another value of the kind of most fields.
func TestNoticesHoldLookAlikes(t *testing.T) {
	g := NewGenerator(8)
	const n = 1000
	with := map[string]int{}
	for i := range n {
		notice := g.Notice(i)
		for _, f := range Fields {
			if len(notice.LookAlikes(f)) > 0 {
				with[f]++
			}
		}
	}
	want := map[string]float64{
		"claim_number": 0.25, "policy_number": 0.15, "loss_date": 0.7, "report_date": 0.7,
		"claimant_name": 0.6, "amount_claimed": 0.6, "currency": 0.05, "incident_type": 0.25,
	}
	for f, share := range want {
		if got := float64(with[f]) / n; got < share {
			t.Errorf("%s: %.2f of notices have a look-alike; want at least %.2f", f, got, share)
		}
	}
}

func TestLookAlikesLeaveOutTheStatedValue(t *testing.T) {
	n := &Notice{
		Stated: map[string]Mention{"loss_date": {Value: "2025-03-12", Text: "12 March 2025", Role: "loss date"}},
		Mentions: map[Kind][]Mention{KindDate: {
			{Value: "2025-03-12", Text: "12 March 2025", Role: "loss date"},
			{Value: "2025-03-14", Text: "14 March 2025", Role: "report date"},
			{Value: "2025-03-14", Text: "14 March 2025", Role: "report date"},
			{Value: "2025-01-01", Text: "1 January 2025", Role: "policy period start"},
		}},
	}
	got := n.LookAlikes("loss_date")
	if len(got) != 2 || got[0].Value != "2025-03-14" || got[1].Value != "2025-01-01" {
		t.Fatalf("look-alikes of the loss date = %+v; want the report date once, then the policy start", got)
	}
	if got := n.LookAlikes("report_date"); len(got) != 3 {
		t.Fatalf("look-alikes of an unstated field = %+v; want every date, once each", got)
	}
}
