package expr

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

func TestEval(t *testing.T) {
	vars := Vars{
		Fields:     countersign.Fields{"amount": 2500000.0, "currency": "EUR", "parties": []any{"Acme", "Globex"}},
		Metadata:   map[string]string{"source": "regulator"},
		Confidence: 0.93,
	}
	cases := []struct {
		expr string
		want bool
	}{
		{`fields.amount > 1000000`, true},
		{`fields.amount > 1000000.0`, true},
		{`fields.amount < 1000`, false},
		{`metadata.source == "regulator"`, true},
		{`has(metadata.channel) && metadata.channel == "fax"`, false},
		{`has(fields.term_months)`, false},
		{`size(fields.parties) >= 2`, true},
		{`confidence >= 0.9 && fields.currency in ["EUR", "USD"]`, true},
	}
	for _, c := range cases {
		p, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		got, err := p.Eval(vars)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := map[string]string{
		``:                       "empty",
		`fields.amount >`:        "Syntax error",
		`metadata.source + 1`:    "no matching overload",
		`confidence * 2.0`:       "not bool",
		`unknown_var == 1`:       "undeclared reference",
		`metadata.source == 1.0`: "no matching overload",
	}
	for src, want := range cases {
		_, err := Compile(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Compile(%q): error spans lines: %q", src, err)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	cases := map[string]string{
		`fields.amount > 10`:                       "no such key",
		`fields.currency > 10`:                     "no such overload",
		`fields.currency`:                          "not a bool",
		`fields.parties.all(p, p.startsWith("A"))`: "",
	}
	vars := Vars{Fields: countersign.Fields{"currency": "EUR", "parties": []any{"Acme", "Globex"}}}
	for src, want := range cases {
		p, err := Compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, err = p.Eval(vars)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", src, err, want)
		}
	}
}

func TestCostIsBounded(t *testing.T) {
	big := make([]any, 5000)
	for i := range big {
		big[i] = float64(i)
	}
	p, err := Compile(`fields.xs.all(a, fields.xs.all(b, a + b >= 0))`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(Vars{Fields: countersign.Fields{"xs": big}})
	if err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("err = %v, want the cost limit", err)
	}
}

func TestCompileCaches(t *testing.T) {
	a, _ := Compile(`true`)
	b, _ := Compile(`true`)
	if a != b {
		t.Fatal("the same source compiled twice")
	}
}
