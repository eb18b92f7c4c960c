package llm_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/tasktype"
)

func registry(t *testing.T) *tasktype.Registry {
	t.Helper()
	reg, err := tasktype.LoadDir(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// extract runs the rules of a shipped task type over a file and checks that
// every evidence quote stands in the text at its character offsets.
func extract(t *testing.T, reg *tasktype.Registry, taskType, path string) *countersign.Draft {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := reg.Get(taskType)
	if err != nil {
		t.Fatal(err)
	}
	draft, err := llm.NewRules().Extract(context.Background(), tt, &countersign.Document{Content: string(raw)})
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune(string(raw))
	for field, ev := range draft.Evidence {
		if ev.Start < 0 || ev.End > len(runes) || string(runes[ev.Start:ev.End]) != ev.Quote {
			t.Errorf("%s: %s: quote %q is not at characters %d-%d", filepath.Base(path), field, ev.Quote, ev.Start, ev.End)
		}
	}
	if draft.Extractor != countersign.ExtractorRules {
		t.Errorf("extractor = %q", draft.Extractor)
	}
	return draft
}

// expect compares drafted fields; a nil want means the field must be absent.
func expect(t *testing.T, name string, got countersign.Fields, want map[string]any) {
	t.Helper()
	for field, w := range want {
		v, ok := got[field]
		switch {
		case w == nil && ok:
			t.Errorf("%s: %s = %v, want no value", name, field, v)
		case w != nil && !countersign.SameValue(v, w):
			t.Errorf("%s: %s = %v, want %v", name, field, v, w)
		}
	}
}

func TestRulesOnShippedContracts(t *testing.T) {
	reg := registry(t)
	dir := filepath.Join("..", "..", "examples", "contract-review", "samples")
	cases := map[string]map[string]any{
		"msa-northwind-harbor.txt": {
			"party_a": "Northwind Analytics, Inc.", "party_b": "Harbor Freight Logistics LLC", "effective_date": "2025-03-01",
			"term_months": 36, "governing_law": "Delaware", "contract_value": 1250000, "currency": "USD",
			"payment_terms_days": 30, "termination_notice_days": 90, "auto_renewal": true,
		},
		"nda-blueheron-cedarridge.txt": {
			"party_a": "Blue Heron Biotech GmbH", "party_b": "Cedar Ridge Capital Partners LLP", "effective_date": "2025-01-15",
			"term_months": 24, "governing_law": "England and Wales", "termination_notice_days": 30, "auto_renewal": false,
			"contract_value": nil,
		},
		"saas-quantumledger-maplestreet.txt": {
			"party_a": "Quantum Ledger Software Ltd.", "party_b": "Maple Street Credit Union", "effective_date": "2024-07-01",
			"term_months": 12, "governing_law": "Ontario", "contract_value": 84000, "currency": "CAD",
			"payment_terms_days": 45, "termination_notice_days": 60, "auto_renewal": true,
		},
		"consulting-lindqvist-fjord.txt": {
			"party_a": "Lindqvist Advisory AB", "party_b": "Fjord Energy ASA", "effective_date": "2024-09-01",
			"term_months": 6, "governing_law": "Norway", "contract_value": 96500, "currency": "EUR",
			"payment_terms_days": 14, "termination_notice_days": 30, "auto_renewal": false,
		},
	}
	for file, want := range cases {
		expect(t, file, extract(t, reg, "contract-review", filepath.Join(dir, file)).Fields, want)
	}
}

func TestRulesOnShippedPII(t *testing.T) {
	reg := registry(t)
	dir := filepath.Join("..", "..", "examples", "pii-extraction", "samples")
	cases := map[string]map[string]any{
		"email-maria-gonzalez.txt": {
			"full_name": "Maria Gonzalez", "email": "maria.gonzalez@example.com", "phone": "(503) 555-0187",
			"date_of_birth": "1984-11-23", "postal_address": "87 Willow Avenue, Apt 2, Portland, OR 97205", "customer_id": "HP-4471902",
		},
		"claim-form-daniel-obrien.txt": {
			"full_name": "Daniel O'Brien", "email": "dobrien@mailbox.example", "phone": "+1 617 555 0142",
			"date_of_birth": "1979-04-17", "postal_address": "12 Elm Street, Apt 3B, Somerville, MA 02143", "customer_id": "AUTO-88213094",
		},
		"hr-request-priya-raman.txt": {
			"full_name": "Priya Raman", "email": "priya.raman@fastmail.example", "phone": "07700 900123",
			"postal_address": "14 Clarendon Road, Leeds LS2 9NU", "customer_id": "E-209317", "date_of_birth": nil,
		},
		// No name anywhere: the draft lacks a required field and goes to a person.
		"support-ticket-unsigned.txt": {
			"full_name": nil, "email": "j.weber.travel@gmail.example", "customer_id": "40021-7781-20",
		},
	}
	for file, want := range cases {
		expect(t, file, extract(t, reg, "pii-extraction", filepath.Join(dir, file)).Fields, want)
	}
}

// TestRulesOnUnseenDocuments runs the rules over documents written in other
// styles than the shipped samples, kept apart in testdata/unseen.
func TestRulesOnUnseenDocuments(t *testing.T) {
	reg := registry(t)
	dir := filepath.Join("testdata", "unseen")
	contracts := map[string]map[string]any{
		"contract-supply.txt": {
			"party_a": "ACME Widgets Corporation", "party_b": "Tri-County Hospital District", "effective_date": "2023-04-03",
			"term_months": 24, "governing_law": "Texas", "contract_value": 2400000, "currency": "USD",
			"payment_terms_days": 60, "auto_renewal": true,
		},
		"contract-lease.txt": {
			"party_a": "Orion Fleet Leasing Ltd", "party_b": "Brannigan Construction Limited", "effective_date": "2024-06-12",
			"term_months": 48, "governing_law": "Ireland", "payment_terms_days": 21, "termination_notice_days": 90,
		},
		// A statement of work names no parties: they are left for a person.
		"contract-services-noparty.txt": {
			"party_a": nil, "party_b": nil, "contract_value": 38500, "currency": "GBP", "governing_law": "England and Wales", "payment_terms_days": 30,
		},
	}
	for file, want := range contracts {
		expect(t, file, extract(t, reg, "contract-review", filepath.Join(dir, file)).Fields, want)
	}
	emails := map[string]map[string]any{
		"email-claim.txt": {
			"full_name": "Tomasz Kowalczyk", "email": "tomasz.kowalczyk@post.example", "phone": "+48 601 555 219",
			"date_of_birth": "1975-02-02", "postal_address": "9 Orchard Lane, Apt 4, Burlington, VT 05401", "customer_id": "HL-2290041",
		},
		"email-account-closure.txt": {
			"full_name": "Fatima Al-Sayed", "email": "fatima.alsayed@inbox.example", "phone": "020 7946 0832", "customer_id": "SAV-00918273",
		},
		"email-no-contact.txt": {"full_name": nil, "email": nil, "phone": nil},
	}
	for file, want := range emails {
		expect(t, file, extract(t, reg, "pii-extraction", filepath.Join(dir, file)).Fields, want)
	}
}

func TestRulesOffsetsCountCharacters(t *testing.T) {
	tt, err := tasktypeFromYAML(`
name: names
fields:
  type: object
  properties:
    name: {type: string}
rules:
  name:
    - pattern: 'Name: (?P<value>\S+)'
policy: {mode: hitl}
`)
	if err != nil {
		t.Fatal(err)
	}
	content := "Čeština — ünïcödé\nName: Zoë\n"
	draft, err := llm.NewRules().Extract(context.Background(), tt, &countersign.Document{Content: content})
	if err != nil {
		t.Fatal(err)
	}
	ev := draft.Evidence["name"]
	if draft.Fields["name"] != "Zoë" || string([]rune(content)[ev.Start:ev.End]) != "Name: Zoë" || ev.Start != 18 {
		t.Fatalf("draft %v, evidence %+v", draft.Fields, ev)
	}
}

func tasktypeFromYAML(src string) (*countersign.TaskType, error) {
	return tasktype.Parse([]byte(src), "inline.yaml")
}
