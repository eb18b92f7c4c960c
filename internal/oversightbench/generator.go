package oversightbench

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// TaskType is the name of the benchmark's task type.
const TaskType = "claim-notice"

// TaskTypeYAML is the claim-notice task type, in hitl mode.
//
//go:embed claim-notice.yaml
var TaskTypeYAML []byte

// Fields of the claim-notice task type, in the order the model answers them.
var Fields = []string{"claim_number", "policy_number", "loss_date", "report_date", "claimant_name", "amount_claimed", "currency", "incident_type"}

// Kind is what sort of value a field holds. A look-alike of a field is
// another value of its kind in the same document.
type Kind string

// The kinds of value in a claim notice.
const (
	KindClaimNumber  Kind = "claim number"
	KindPolicyNumber Kind = "policy number"
	KindDate         Kind = "date"
	KindAmount       Kind = "amount"
	KindCurrency     Kind = "currency"
	KindName         Kind = "name"
	KindIncident     Kind = "incident"
)

// FieldKind is the kind of each field.
var FieldKind = map[string]Kind{
	"claim_number":   KindClaimNumber,
	"policy_number":  KindPolicyNumber,
	"loss_date":      KindDate,
	"report_date":    KindDate,
	"claimant_name":  KindName,
	"amount_claimed": KindAmount,
	"currency":       KindCurrency,
	"incident_type":  KindIncident,
}

// Mention is a value as a document writes it.
type Mention struct {
	// Value is the value as the schema has it: a string, or a float64 for
	// amounts.
	Value any
	// Text is how the document writes it, verbatim.
	Text string
	// Role is what the value is in the document ("loss date",
	// "deductible", "prior claim").
	Role string
}

// Notice is a generated claim notice and the truth about it.
type Notice struct {
	// Index is the notice's number in its generator's sequence.
	Index      int
	ExternalID string
	Text       string
	// Truth holds the right fields: what a careful person enters. A field
	// the notice does not state is absent.
	Truth countersign.Fields
	// Reject is why a person rejects the document, when it is not a claim
	// notice; Truth is then empty.
	Reject string
	// Stated is, per field, the value the document states for it and
	// where (for a rejected document too: what a model reading it finds).
	Stated map[string]Mention
	// Mentions are all the values the document writes, per kind, the
	// stated ones included.
	Mentions map[Kind][]Mention
}

// LookAlikes returns the values of field's kind that the document writes
// and that are not the one it states for field, in the order they appear.
func (n *Notice) LookAlikes(field string) []Mention {
	stated, has := n.Stated[field]
	var out []Mention
	seen := map[string]bool{}
	for _, m := range n.Mentions[FieldKind[field]] {
		key := fmt.Sprint(m.Value)
		if has && countersign.Equivalent(m.Value, stated.Value) || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, m)
	}
	return out
}

// Generator makes claim notices. The same seed and index always give the
// same notice.
type Generator struct {
	Seed uint64
	// RejectShare is the share of documents that are not claim notices.
	RejectShare float64
	// AmountShare is the share of notices that state an amount claimed.
	AmountShare float64
}

// NewGenerator returns a generator with the benchmark's shares: 3% of
// documents are not claim notices, 75% of notices state an amount.
func NewGenerator(seed uint64) Generator {
	return Generator{Seed: seed, RejectShare: 0.03, AmountShare: 0.75}
}

// Notice generates the i-th document.
func (g Generator) Notice(i int) *Notice {
	r := rand.New(rand.NewPCG(g.Seed, uint64(i)*0x9e3779b97f4a7c15+1))
	w := &writer{r: r, n: &Notice{
		Index:      i,
		ExternalID: fmt.Sprintf("claim-notice-%d-%06d", g.Seed, i),
		Truth:      countersign.Fields{},
		Stated:     map[string]Mention{},
		Mentions:   map[Kind][]Mention{},
	}}
	w.dates = dateFormats[r.IntN(len(dateFormats))]
	if r.Float64() < g.RejectShare {
		w.notClaim()
	} else {
		w.claim(r.Float64() < g.AmountShare)
	}
	w.n.Text = w.b.String()
	return w.n
}

// writer writes one document and records what it writes.
type writer struct {
	r     *rand.Rand
	n     *Notice
	b     strings.Builder
	dates dateFormat
	used  map[string]bool
}

func (w *writer) say(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// state writes the value of field and records it as what the document
// states for it.
func (w *writer) state(field string, m Mention) {
	w.b.WriteString(m.Text)
	w.n.Stated[field] = m
	w.n.Mentions[FieldKind[field]] = append(w.n.Mentions[FieldKind[field]], m)
}

// mention writes another value of a kind.
func (w *writer) mention(kind Kind, m Mention) {
	w.b.WriteString(m.Text)
	w.n.Mentions[kind] = append(w.n.Mentions[kind], m)
}

// fresh reports whether key was not used yet in this document, and
// marks it used: look-alikes never equal the values they stand beside.
func (w *writer) fresh(key string) bool {
	if w.used == nil {
		w.used = map[string]bool{}
	}
	if w.used[key] {
		return false
	}
	w.used[key] = true
	return true
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

var (
	firstNames = []string{"Maria", "Daniel", "Priya", "Jonas", "Leila", "Tom", "Karen", "Ahmed", "Sofia", "Liam", "Hannah", "Mateo", "Chloe", "Noah", "Grace", "Ethan", "Amelia", "Lucas", "Isla", "Omar", "Elena", "Samuel", "Ava", "Victor", "Nora", "Felix", "Zoe", "Hugo", "Ruth", "Ivan", "Mei", "Oscar", "Julia", "Rafael", "Ingrid", "Kofi", "Anya", "Pedro", "Freya", "Dmitri"}
	lastNames  = []string{"Gonzalez", "O'Brien", "Raman", "Weber", "Haddad", "Baker", "Liu", "Khan", "Rossi", "Murphy", "Schmidt", "Fernandes", "Dubois", "Novak", "Andersen", "Kowalski", "Nakamura", "Okafor", "Silva", "Jensen", "Moreau", "Petrov", "Costa", "Fischer", "Lindqvist", "Hughes", "Bianchi", "Tanaka", "Mensah", "Larsen", "Walsh", "Ortega", "Becker", "Sato", "Nilsen", "Popescu", "Reyes", "Hartmann", "Quinn", "Varga"}
	streets    = []string{"Elm Street", "Harbor Road", "Mill Lane", "Station Avenue", "Park Terrace", "Church Road", "Willow Drive", "Kings Way"}
	towns      = []string{"Somerville", "Bristol", "Leeds", "Dayton", "Galway", "Utrecht", "Lyon", "Porto"}
)

func (w *writer) name() string {
	for {
		n := pick(w.r, firstNames) + " " + pick(w.r, lastNames)
		if w.fresh("name:" + n) {
			return n
		}
	}
}

func (w *writer) claimNumber(year int) string {
	for {
		n := fmt.Sprintf("CLM-%d-%06d", year, w.r.IntN(1_000_000))
		if w.fresh("ref:" + n) {
			return n
		}
	}
}

// policyShapes are the insurers' policy number formats.
var policyShapes = []func(r *rand.Rand) string{
	func(r *rand.Rand) string { return fmt.Sprintf("HX-%04d-%04d", r.IntN(10000), r.IntN(10000)) },
	func(r *rand.Rand) string { return fmt.Sprintf("POL-%08d", r.IntN(100_000_000)) },
	func(r *rand.Rand) string { return fmt.Sprintf("MH-%02d-%06d", 10+r.IntN(90), r.IntN(1_000_000)) },
}

func (w *writer) policyNumber(shape int) string {
	for {
		n := policyShapes[shape](w.r)
		if w.fresh("ref:" + n) {
			return n
		}
	}
}

// day is a date in the benchmark's year; dates are days since 1 January.
func day(d int) time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }

func (w *writer) date(role string, t time.Time) Mention {
	return Mention{Value: t.Format(time.DateOnly), Text: w.dates.write(t), Role: role}
}

// freshDate returns a date within [from, to) days not used yet.
func (w *writer) freshDate(from, to int) time.Time {
	for {
		t := day(from + w.r.IntN(to-from))
		if w.fresh("date:" + t.Format(time.DateOnly)) {
			return t
		}
	}
}

// dateFormat is how a document writes dates; one document writes them all
// the same way.
type dateFormat struct {
	layout string
}

var dateFormats = []dateFormat{{"2 January 2006"}, {"January 2, 2006"}, {"2006-01-02"}, {"01/02/2006"}}

func (f dateFormat) write(t time.Time) string { return t.Format(f.layout) }

// Parse reads a date written in this format.
func (f dateFormat) parse(s string) (time.Time, error) { return time.Parse(f.layout, s) }

// money is an amount in a currency, written in one of the usual ways.
type money struct {
	currency string
	cents    int
}

func (m money) value() float64 { return float64(m.cents) / 100 }

func (m money) number() string {
	whole, cents := m.cents/100, m.cents%100
	s := fmt.Sprint(whole)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	return strings.Join(out, ",") + fmt.Sprintf(".%02d", cents)
}

var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£"}

func (w *writer) write(m money, style int) string {
	switch style {
	case 0:
		return m.currency + " " + m.number()
	case 1:
		return symbols[m.currency] + m.number()
	default:
		return m.number() + " " + m.currency
	}
}

// freshMoney returns an amount between lo and hi (whole units) not used
// yet; round amounts are common, as on real invoices.
func (w *writer) freshMoney(currency string, lo, hi int) money {
	for {
		units := lo + w.r.IntN(hi-lo)
		cents := 0
		switch w.r.IntN(3) {
		case 0:
			units = units / 50 * 50
		case 1:
			cents = w.r.IntN(100)
		}
		m := money{currency: currency, cents: units*100 + cents}
		if m.cents > 0 && w.fresh(fmt.Sprintf("money:%d", m.cents)) {
			return m
		}
	}
}

// incidents are the incident types, how a notice describes each, and the
// types a description of it may also suggest.
var incidents = []struct {
	kind        string
	phrases     []string
	confusables []string
}{
	{"water_damage", []string{"a burst pipe flooded the kitchen", "water leaked from the upstairs bathroom through the ceiling", "the washing machine hose split and water soaked the floor"}, []string{"storm", "other"}},
	{"fire", []string{"a fire started in the kitchen", "an electrical fire damaged the living room", "a chimney fire spread to the roof"}, []string{"storm", "other"}},
	{"theft", []string{"the house was broken into and jewellery was stolen", "the car was stolen from the driveway", "tools were stolen from the locked garage"}, []string{"other", "liability"}},
	{"collision", []string{"the insured car was hit from behind at a junction", "a van reversed into the parked car", "the car collided with a cyclist's trailer at a roundabout"}, []string{"liability", "other"}},
	{"storm", []string{"a storm tore tiles off the roof", "hail smashed the conservatory roof", "high winds brought a tree down onto the garage"}, []string{"water_damage", "other"}},
	{"liability", []string{"a visitor slipped on the front steps and was injured", "a delivery driver was hurt by the dog", "falling roof tiles damaged the neighbour's car"}, []string{"collision", "other"}},
	{"other", []string{"a power surge destroyed the home office equipment", "the contents of the freezer spoiled after a power cut", "a sinkhole cracked the driveway"}, []string{"fire", "storm"}},
}

// hints are sentences that mention another incident type beside the one
// that caused the loss.
var hints = map[string][]string{
	"water_damage": {"The rain then came through and soaked the carpets.", "The firefighters' hoses left water damage in the hall."},
	"fire":         {"There was a small fire in the fuse box as well, quickly put out."},
	"theft":        {"A neighbour says a ladder was stolen from the garden the same week."},
	"collision":    {"Our other car was in a collision last year, already settled."},
	"storm":        {"That whole week was stormy, with gales most nights."},
	"liability":    {"The neighbour has said he may hold us responsible for his fence."},
	"other":        {"We also lost power for a day."},
}

// claim writes a claim notice.
func (w *writer) claim(withAmount bool) {
	r, n := w.r, w.n
	claimant := w.name()
	n.Truth["claimant_name"] = claimant
	year := 2025
	claim := w.claimNumber(year)
	shape := r.IntN(len(policyShapes))
	policy := w.policyNumber(shape)
	loss := w.freshDate(0, 280)
	reported := loss
	if r.Float64() < 0.8 {
		reported = loss.AddDate(0, 0, 1+r.IntN(20))
	}
	w.fresh("date:" + reported.Format(time.DateOnly))
	inc := incidents[r.IntN(len(incidents))]
	phrase := pick(r, inc.phrases)
	currency := pick(r, []string{"USD", "USD", "USD", "EUR", "EUR", "GBP"})
	moneyStyle := r.IntN(3)
	amount := w.freshMoney(currency, 300, 48_000)

	c := claimStory{
		claimant: Mention{Value: claimant, Text: claimant, Role: "claimant"},
		claim:    Mention{Value: claim, Text: claim, Role: "claim number"},
		policy:   Mention{Value: policy, Text: policy, Role: "policy number"},
		loss:     w.date("loss date", loss),
		reported: w.date("report date", reported),
		incident: Mention{Value: inc.kind, Text: phrase, Role: "incident"},
	}
	if withAmount {
		text := w.write(amount, moneyStyle)
		c.amount = &Mention{Value: amount.value(), Text: text, Role: "amount claimed"}
		c.currency = &Mention{Value: currency, Text: text, Role: "currency of the amount claimed"}
	}
	// The look-alikes this notice carries beside the truth.
	if r.Float64() < 0.6 {
		start := day(-r.IntN(200))
		if start.After(loss) {
			start = loss.AddDate(0, -3, 0)
		}
		end := start.AddDate(1, 0, -1)
		if w.fresh("date:"+start.Format(time.DateOnly)) && w.fresh("date:"+end.Format(time.DateOnly)) {
			c.period = []Mention{w.date("policy period start", start), w.date("policy period end", end)}
		}
	}
	if r.Float64() < 0.35 {
		prior := w.freshMoney(currency, 200, 9_000)
		c.prior = &priorClaim{
			number: Mention{Value: w.claimNumber(year - 1 - r.IntN(3)), Role: "prior claim"},
			date:   w.date("prior claim settled", w.freshDate(-700, -30)),
			paid:   Mention{Value: prior.value(), Text: w.write(prior, moneyStyle), Role: "prior claim paid"},
		}
		c.prior.number.Text = c.prior.number.Value.(string)
	}
	if r.Float64() < 0.5 {
		m := w.freshMoney(currency, 100, 2_500)
		c.deductible = &Mention{Value: m.value(), Text: w.write(m, moneyStyle), Role: "deductible"}
	}
	if r.Float64() < 0.3 {
		m := w.freshMoney(currency, 50_000, 500_000)
		c.limit = &Mention{Value: m.value(), Text: w.write(m, moneyStyle), Role: "cover limit"}
	}
	if r.Float64() < 0.25 {
		m := w.freshMoney(currency, 150, 6_000)
		c.estimate = &Mention{Value: m.value(), Text: w.write(m, moneyStyle), Role: "partial estimate"}
	}
	if withAmount && r.Float64() < 0.12 {
		other := pick(r, []string{"USD", "EUR", "GBP"})
		for other == currency {
			other = pick(r, []string{"USD", "EUR", "GBP"})
		}
		m := w.freshMoney(other, 300, 48_000)
		text := w.write(m, moneyStyle)
		c.converted = &converted{amount: Mention{Value: m.value(), Text: text, Role: "amount before conversion"}, currency: Mention{Value: other, Text: text, Role: "currency before conversion"}}
	}
	if r.Float64() < 0.25 {
		c.otherPolicy = &Mention{Value: w.policyNumber(shape), Role: "other policy"}
		c.otherPolicy.Text = c.otherPolicy.Value.(string)
	}
	if r.Float64() < 0.3 {
		c.inspection = ptr(w.date("inspection date", w.freshDate(int(reported.Sub(day(0)).Hours()/24)+1, 330)))
	}
	if r.Float64() < 0.2 {
		c.earlier = ptr(w.date("earlier letter", w.freshDate(-60, int(loss.Sub(day(0)).Hours()/24))))
	}
	if r.Float64() < 0.35 {
		hintKind := pick(r, inc.confusables)
		c.hint = &Mention{Value: hintKind, Text: pick(r, hints[hintKind]), Role: "another incident type"}
	}
	if r.Float64() < 0.35 {
		c.witness = &Mention{Value: w.name(), Role: pick(r, []string{"witness", "other party", "neighbour"})}
		c.witness.Text = c.witness.Value.(string)
	}
	c.staff = Mention{Value: w.name(), Role: "staff"}
	c.staff.Text = c.staff.Value.(string)
	c.email = strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(claimant, "'", ""), " ", ".")) + "@" + pick(r, []string{"mailbox.example", "post.example", "inbox.example"})

	switch r.IntN(4) {
	case 0:
		w.email(c)
	case 1:
		w.broker(c)
	case 2:
		w.form(c)
	default:
		w.call(c)
	}
	for field, m := range n.Stated {
		n.Truth[field] = m.Value
	}
}

func ptr[T any](v T) *T { return &v }

// claimStory is what a claim notice says, before it is written in one of
// the templates.
type claimStory struct {
	claimant, claim, policy, loss, reported, incident Mention
	amount, currency                                  *Mention
	period                                            []Mention
	prior                                             *priorClaim
	deductible, limit, estimate                       *Mention
	converted                                         *converted
	otherPolicy, inspection, earlier, hint, witness   *Mention
	staff                                             Mention // the broker, agent or handler who writes
	email                                             string
}

type priorClaim struct{ number, date, paid Mention }

type converted struct{ amount, currency Mention }

// Each template writes the same story in its own words. Look-alikes come
// in sentences whose words fit their own role, so that context tells them
// apart from the values the fields want.

func (w *writer) email(c claimStory) {
	w.say("From: %s <%s>\nTo: claims@insurer.example\nDate: ", c.claimant.Text, c.email)
	w.state("report_date", c.reported)
	w.say("\nSubject: Claim ")
	w.state("claim_number", c.claim)
	w.say("\n\nDear claims team,\n\n")
	if c.earlier != nil {
		w.say("Further to my message of ")
		w.mention(KindDate, *c.earlier)
		w.say(" about my cover, ")
	}
	w.say("I am writing about claim number %s under my policy no. ", c.claim.Text)
	w.state("policy_number", c.policy)
	w.say(". On ")
	w.state("loss_date", c.loss)
	w.say(", ")
	w.state("incident_type", c.incident)
	w.say(".")
	w.extras(c, "I")
	w.amountSentence(c, "I am claiming ")
	w.say("\n\nKind regards,\n")
	w.state("claimant_name", c.claimant)
	w.say("\n")
}

func (w *writer) broker(c claimStory) {
	w.say("HARBOUR INSURANCE BROKERS\n")
	w.mention(KindName, c.staff)
	w.say(", Account Executive\n\n")
	w.state("report_date", c.reported)
	w.say("\n\nClaims Department\n\nRe: our client ")
	w.state("claimant_name", c.claimant)
	w.say(", policy number ")
	w.state("policy_number", c.policy)
	w.say(", your claim ref. ")
	w.state("claim_number", c.claim)
	w.say("\n\nDear Sirs,\n\nWe write on behalf of our client, who reports that on ")
	w.state("loss_date", c.loss)
	w.say(" ")
	w.state("incident_type", c.incident)
	w.say(".")
	w.extras(c, "Our client")
	w.amountSentence(c, "Our client claims ")
	w.say("\n\nYours faithfully,\n\n")
	w.mention(KindName, c.staff)
	w.say("\nHarbour Insurance Brokers\n")
}

func (w *writer) form(c claimStory) {
	w.say("FIRST NOTICE OF LOSS\n\nClaim number: ")
	w.state("claim_number", c.claim)
	w.say("\nPolicy number: ")
	w.state("policy_number", c.policy)
	w.say("\nClaimant: ")
	w.state("claimant_name", c.claimant)
	w.say("\nAddress: %d %s, %s\n", 1+w.r.IntN(200), pick(w.r, streets), pick(w.r, towns))
	w.say("Date of loss: ")
	w.state("loss_date", c.loss)
	w.say("\nDate reported: ")
	w.state("report_date", c.reported)
	if c.amount != nil {
		w.say("\nAmount claimed: ")
		w.state("amount_claimed", *c.amount)
		w.n.Stated["currency"] = *c.currency
		w.n.Mentions[KindCurrency] = append(w.n.Mentions[KindCurrency], *c.currency)
	}
	w.say("\n\nWhat happened: ")
	w.state("incident_type", c.incident)
	w.say(".")
	w.extras(c, "The claimant")
	w.say("\n\nForm taken by: ")
	w.mention(KindName, c.staff)
	w.say("\n")
}

func (w *writer) call(c claimStory) {
	w.say("CALL NOTE\nHandler: ")
	w.mention(KindName, c.staff)
	w.say("\nCall received: ")
	w.state("report_date", c.reported)
	w.say("\n\nCaller ")
	w.state("claimant_name", c.claimant)
	w.say(" (policyholder, policy ")
	w.state("policy_number", c.policy)
	w.say(") rang to report that ")
	w.state("incident_type", c.incident)
	w.say(". This happened on ")
	w.state("loss_date", c.loss)
	w.say(". Opened claim no. ")
	w.state("claim_number", c.claim)
	w.say(" for the caller.")
	w.extras(c, "The caller")
	w.amountSentence(c, "The caller estimates the claim at ")
	w.say("\n")
}

// amountSentence states the amount claimed, or says that none is known
// yet, in free-text templates.
func (w *writer) amountSentence(c claimStory, lead string) {
	if c.amount == nil {
		w.say(" The repair invoices will follow once the work is quoted.")
		return
	}
	w.say(" %s", lead)
	w.state("amount_claimed", *c.amount)
	w.n.Stated["currency"] = *c.currency
	w.n.Mentions[KindCurrency] = append(w.n.Mentions[KindCurrency], *c.currency)
	w.say(" for the damage.")
	if c.converted != nil {
		w.say(" The receipts were paid as ")
		w.mention(KindAmount, c.converted.amount)
		w.n.Mentions[KindCurrency] = append(w.n.Mentions[KindCurrency], c.converted.currency)
		w.say(" at the time.")
	}
}

// extras writes the look-alikes in a shuffled order.
func (w *writer) extras(c claimStory, who string) {
	var parts []func()
	if c.hint != nil {
		parts = append(parts, func() {
			w.say(" ")
			w.mention(KindIncident, *c.hint)
		})
	}
	if c.witness != nil {
		parts = append(parts, func() {
			w.say(" The %s, ", c.witness.Role)
			w.mention(KindName, *c.witness)
			w.say(", saw what happened.")
		})
	}
	if c.period != nil {
		parts = append(parts, func() {
			w.say(" The policy runs from ")
			w.mention(KindDate, c.period[0])
			w.say(" to ")
			w.mention(KindDate, c.period[1])
			w.say(".")
		})
	}
	if c.prior != nil {
		parts = append(parts, func() {
			w.say(" %s made a previous claim, ", who)
			w.mention(KindClaimNumber, c.prior.number)
			w.say(", settled on ")
			w.mention(KindDate, c.prior.date)
			w.say(" for ")
			w.mention(KindAmount, c.prior.paid)
			w.say(".")
		})
	}
	if c.deductible != nil {
		parts = append(parts, func() {
			w.say(" The deductible is ")
			w.mention(KindAmount, *c.deductible)
			w.say(".")
		})
	}
	if c.limit != nil {
		parts = append(parts, func() {
			w.say(" Cover is limited to ")
			w.mention(KindAmount, *c.limit)
			w.say(" per event.")
		})
	}
	if c.estimate != nil {
		parts = append(parts, func() {
			w.say(" A first quote for the emergency work came to ")
			w.mention(KindAmount, *c.estimate)
			w.say(".")
		})
	}
	if c.otherPolicy != nil {
		parts = append(parts, func() {
			w.say(" %s also holds policy ", who)
			w.mention(KindPolicyNumber, *c.otherPolicy)
			w.say(" for the car.")
		})
	}
	if c.inspection != nil {
		parts = append(parts, func() {
			w.say(" An inspection is booked for ")
			w.mention(KindDate, *c.inspection)
			w.say(".")
		})
	}
	w.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	for _, p := range parts {
		p()
	}
}

// notClaim writes a document that is not a claim notice: a question, a
// renewal request or a complaint from a policyholder. It states a name, a
// policy number and dates, and no claim.
func (w *writer) notClaim() {
	r, n := w.r, w.n
	holder := w.name()
	policy := w.policyNumber(r.IntN(len(policyShapes)))
	sent := w.date("date sent", w.freshDate(0, 300))
	renewal := w.date("renewal date", w.freshDate(0, 365))
	currency := pick(r, []string{"USD", "EUR", "GBP"})
	premium := w.freshMoney(currency, 200, 3_000)
	premiumText := w.write(premium, r.IntN(3))
	kind := r.IntN(3)
	n.Reject = []string{"not a claim notice: a question about cover", "not a claim notice: a renewal request", "not a claim notice: a complaint about the premium"}[kind]

	w.say("From: %s <%s@%s>\nDate: ", holder, strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(holder, "'", ""), " ", ".")), "mailbox.example")
	w.state("report_date", sent)
	w.say("\nSubject: Policy ")
	w.state("policy_number", Mention{Value: policy, Text: policy, Role: "policy number"})
	w.say("\n\nHello,\n\n")
	switch kind {
	case 0:
		w.say("Before I renew on ")
		w.mention(KindDate, renewal)
		w.say(", could you tell me whether my policy covers damage from frozen pipes? My premium is ")
	case 1:
		w.say("Please send me a renewal offer; the policy ends on ")
		w.mention(KindDate, renewal)
		w.say(". This year I paid ")
	default:
		w.say("I was surprised that my renewal on ")
		w.mention(KindDate, renewal)
		w.say(" raised the premium to ")
	}
	w.mention(KindAmount, Mention{Value: premium.value(), Text: premiumText, Role: "premium"})
	w.say(".\n\nThank you,\n")
	w.state("claimant_name", Mention{Value: holder, Text: holder, Role: "policyholder"})
	w.say("\n")
}
