//go:build ignore

// Offline analysis of the oversight benchmark's statistics, for working on
// signals and calibration in seconds rather than the benchmark's quarter
// hour: the same generator, fake model, extractor, scoring, calibration and
// certification as the engine, without Temporal, a store or the REST API.
// It builds the calibration outcomes itself, as the store's reviewed
// documents would give them, so it is an approximation of the engine's
// path; `make oversight-bench` is the measure of record.
//
//	go run internal/oversightbench/offline/main.go -seeds 5 [-holdout 0.5] [-v]
//
// With -hotl N, each budget that got a first certificate then runs N new
// documents in hotl at the certified threshold, at audit sample rate -rate,
// and certifies again at the next attempt on the held-out reviewed
// documents plus the uniform sample of the period in hotl (simulate.Sampled,
// the audit draw as activities.DrawAudit makes it), every -every documents
// or once after N; for contrast, a naive recertification takes every
// document of the period a person saw (all sent to a person and the
// audited), the evidence simulate.Sampled leaves out.
//
//	go run internal/oversightbench/offline/main.go -seeds 5 -hotl 2000 -rate 0.1 [-every 500]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/oversightbench"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
	"github.com/countersign/countersign/internal/simulate"
	"github.com/countersign/countersign/internal/tasktype"
)

type Doc struct {
	Index      int                                 `json:"index"`
	ID         string                              `json:"id"`
	Wrong      bool                                `json:"wrong"`
	Reject     bool                                `json:"reject"`
	Failed     bool                                `json:"failed"`
	WrongF     []string                            `json:"wrong_fields,omitempty"`
	Planned    map[string]oversightbench.ErrorKind `json:"planned,omitempty"`
	Confident  map[string]bool                     `json:"confident,omitempty"`
	Raw        float64                             `json:"raw"`
	Conf       float64                             `json:"conf"`
	HeldOut    bool                                `json:"held_out"`
	Fields     map[string]countersign.FieldScore   `json:"fields"`
	Draft      countersign.Fields                  `json:"draft"`
	created    time.Time
	confidence *countersign.Confidence
	outcome    *calibration.DocumentOutcome
}

var (
	tt  *countersign.TaskType
	sch *schema.Schema
)

// horizon is -horizon: batch certificates over that many accepted
// documents when above 0.
var horizon int

func main() {
	seeds := flag.Int("seeds", 5, "seeds 1..n")
	first := flag.Int("first", 1, "first seed")
	reviewed := flag.Int("reviewed", 300, "")
	step := flag.Int("step", 100, "")
	maxReviewed := flag.Int("max", 900, "")
	heldout := flag.Int("heldout", 500, "")
	holdout := flag.Float64("holdout", 0.5, "")
	dump := flag.String("dump", "", "json dump of docs")
	verbose := flag.Bool("v", false, "")
	cache := flag.String("cache", "", "directory keeping the scored documents per seed: a later run with the same directory skips drafting and scoring (clear it after changing the model, the generator or scoring)")
	hotlDocs := flag.Int("hotl", 0, "documents run in hotl after the first certificate at each budget, then certified again (0: none)")
	rate := flag.Float64("rate", 0.1, "audit sample rate in hotl")
	every := flag.Int("every", 0, "certify again every this many documents in hotl (0: once, after -hotl)")
	flag.IntVar(&horizon, "horizon", 0, "certify batch certificates over this many accepted documents (certify.TestBatchAttempt; 0: certificates of the rate)")
	laxer := flag.Bool("laxer", true, "in hotl, put a new certificate in force only when its threshold is laxer than the one in force (the older certificate still holds: every attempt counts); false: always the newest")
	flag.Parse()
	if *hotlDocs > 0 && !(*rate > 0 && *rate <= 1) {
		must(fmt.Errorf("-rate must be above 0 and at most 1, not %v", *rate))
	}
	checkpoints := hotlCheckpoints(*hotlDocs, *every)

	dir, _ := os.MkdirTemp("", "scratch")
	os.WriteFile(filepath.Join(dir, oversightbench.TaskType+".yaml"), oversightbench.TaskTypeYAML, 0o644)
	reg, err := tasktype.LoadDir(dir)
	must(err)
	tt, err = reg.Get(oversightbench.TaskType)
	must(err)
	sch, err = schema.Compile(tt.Schema)
	must(err)

	budgets := []float64{0.01, 0.02, 0.05}
	type agg struct {
		cert, within, n, perfectCert                       int
		share, perfect, hind, esc, after, perfectCertShare float64
		// Over the seeds with a certificate: its share to people on the
		// held-out batch, and the wrong and all documents it accepts.
		certShare        float64
		certEsc, certAcc int
	}
	aggs := make([]agg, len(budgets))
	// The recertifications in hotl, per budget: the uniform sample's and
	// the naive evidence's.
	hotlAggs := make([][2]hotlAgg, len(budgets))
	for i := range hotlAggs {
		for w := range hotlAggs[i] {
			hotlAggs[i][w].at = make([]checkpointAgg, len(checkpoints))
		}
	}
	var queueReviews, queueFIFO, queueValue, queueUnsure, queueWrong, queueDocs int
	var dumpDocs []map[string]any
	for s := *first; s < *first+*seeds; s++ {
		seed := uint64(s)
		g := oversightbench.NewGenerator(seed)
		m := oversightbench.NewModel(seed, oversightbench.DefaultProfile())
		base := m.Start()
		x := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: base, Model: "fake-claims-1"})
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		cached := loadCache(*cache, seed)
		process := func(idx []int) []*Doc {
			out := make([]*Doc, len(idx))
			if cached != nil {
				hit := true
				for k, i := range idx {
					if out[k] = cached[i]; out[k] == nil {
						hit = false
						break
					}
				}
				if hit {
					return out
				}
			}
			var wg sync.WaitGroup
			ch := make(chan int)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range ch {
						n := g.Notice(idx[k])
						m.Add(n)
						out[k] = run(x, m, n, t0.Add(time.Duration(idx[k])*time.Second))
					}
				}()
			}
			for k := range idx {
				ch <- k
			}
			close(ch)
			wg.Wait()
			if *cache != "" {
				if cached == nil {
					cached = map[int]*Doc{}
				}
				for k, i := range idx {
					cached[i] = out[k]
				}
				saveCache(*cache, seed, cached)
			}
			return out
		}
		rng := func(a, b int) []int {
			var o []int
			for i := a; i < b; i++ {
				o = append(o, i)
			}
			return o
		}
		rev := process(rng(0, *reviewed))
		outs := &calibration.Outcomes{}
		for _, d := range rev {
			if d.outcome != nil {
				outs.Documents = append(outs.Documents, *d.outcome)
			}
		}
		through := t0.Add(time.Duration(*reviewed) * time.Second)
		cal, err := calibration.Learn(tt, outs, calibration.Options{Seed: int64(seed), Holdout: *holdout, TrainedThrough: through})
		must(err)
		rep := cal.Report
		var sig []string
		for _, sd := range rep.Signals {
			a := "-"
			if sd.AUC != nil {
				a = fmt.Sprintf("%.3f", *sd.AUC)
			}
			sig = append(sig, fmt.Sprintf("%s=%s(%d)", sd.Signal, a, sd.Present))
		}
		fmt.Printf("seed %d: trained %d, signals %s\n  doc AUC before %.3f after %.3f, brier %.4f -> %.4f, features %v\n", seed, rep.Document.Documents, strings.Join(sig, " "), rep.Document.AUCBefore, rep.Document.AUCAfter, rep.Document.BrierBefore, rep.Document.BrierAfter, cal.Model.Features)
		if *verbose {
			pr := func(name string, b []float64) {
				fmt.Printf("  %-14s b0=%6.2f", name, b[0])
				for j, f := range cal.Model.Features {
					fmt.Printf(" %s=%.2f", f, b[j+1])
				}
				fmt.Println()
			}
			pr("pooled", cal.Model.Pooled)
			for f, b := range cal.Model.Fields {
				pr(f, b)
			}
			fmt.Printf("  platt %+v floor %.4f\n", cal.Model.Document, cal.Model.Floor)
		}
		calib := func(ds []*Doc) {
			for _, d := range ds {
				c := scoring.Recalibrate(tt, d.confidence, cal, calibration.RawScore)
				d.Conf = c.Overall
				d.Fields = c.Fields
				d.HeldOut = !cal.TrainedOn(d.ID, d.created)
			}
		}
		calib(rev)
		// The limit of the procedure on these documents: what it certifies
		// when the confidence ranks perfectly (every right document above
		// every wrong one), on the same held-out documents.
		{
			var perfectSamples []certify.Sample
			for _, d := range rev {
				if !d.HeldOut {
					continue
				}
				conf, route := 0.9, simulate.RouteEligible
				if d.Wrong {
					conf = 0.1
				}
				if d.Failed {
					route = simulate.RouteReview
				}
				perfectSamples = append(perfectSamples, certify.Sample{Confidence: conf, Route: route, Wrong: d.Wrong})
			}
			for i, b := range budgets {
				r, err := certify.Test(perfectSamples, b, 0.95)
				must(err)
				if r.Certified != nil {
					aggs[i].perfectCert++
					aggs[i].perfectCertShare += r.ReviewShare
				} else {
					aggs[i].perfectCertShare++
				}
			}
		}
		if *verbose {
			// Where the wrong documents stand in the held-out ranking the
			// first certification sees: one in the top MinAccepted stops
			// every sequence.
			var held []*Doc
			for _, d := range rev {
				if d.HeldOut && !d.Failed {
					held = append(held, d)
				}
			}
			sort.SliceStable(held, func(i, j int) bool { return held[i].Conf > held[j].Conf })
			var ranks []int
			for i, d := range held {
				if d.Wrong {
					ranks = append(ranks, i+1)
				}
			}
			fmt.Printf("  ranks of the wrong among %d held-out eligible documents: %v\n", len(held), ranks)
		}
		all := rev
		certs := make([]*certify.Result, len(budgets))
		after := make([]int, len(budgets))
		// Attempts at each budget so far, and how many reviewed documents
		// the next waits for (as the engine's bench does).
		attempts := make([]int, len(budgets))
		next := make([]int, len(budgets))
		for {
			var samples []certify.Sample
			for _, d := range all {
				if !d.HeldOut {
					continue
				}
				route := simulate.RouteEligible
				if d.Failed {
					route = simulate.RouteReview
				}
				samples = append(samples, certify.Sample{Confidence: d.Conf, Route: route, Wrong: d.Wrong})
			}
			missing := false
			for i, b := range budgets {
				if certs[i] != nil {
					continue
				}
				if len(all) < next[i] && len(all) < *maxReviewed || len(samples) == 0 {
					missing = true
					continue
				}
				attempts[i]++
				r, err := certify.TestBatchAttempt(samples, b, 0.95, horizon, attempts[i])
				must(err)
				if r.Certified != nil {
					certs[i], after[i] = r, len(all)
				} else {
					missing = true
					wait := r.WaitFor()
					if wait < 0 {
						wait = *maxReviewed
					}
					next[i] = len(all) + max(*step, wait)
					if *verbose && r.Stopped != nil {
						fmt.Printf("  %.0f%% after %d: stopped at %d of %d (t=%.4f), tested %d\n", b*100, len(all), r.Stopped.Wrong, r.Stopped.Accepted, r.Stopped.Threshold, r.Tested)
					}
				}
			}
			if !missing || len(all) >= *maxReviewed {
				break
			}
			more := process(rng(len(all), min(len(all)+*step, *maxReviewed)))
			calib(more)
			all = append(all, more...)
		}
		// held-out batch
		batch := process(rng(1_000_000, 1_000_000+*heldout))
		calib(batch)
		wrong := 0
		var sc []oversightbench.Scored
		for _, d := range batch {
			if d.Wrong {
				wrong++
			}
			sc = append(sc, oversightbench.Scored{Confidence: d.Conf, Wrong: d.Wrong})
		}
		// ranking: share of wrong in top 40%
		sorted := append([]*Doc(nil), batch...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Conf > sorted[j].Conf })
		top := sorted[:len(sorted)*4/10]
		tw := 0
		for _, d := range top {
			if d.Wrong {
				tw++
			}
		}
		fmt.Printf("  batch: %d wrong of %d (%.3f); top 40%%: %.3f wrong; doc AUC batch %.3f\n", wrong, len(batch), float64(wrong)/float64(len(batch)), float64(tw)/float64(len(top)), aucOf(batch))
		// The queue: the held-out documents all waiting for a person,
		// taken first-in-first-out (arrival order) or least confident
		// first (countersign next when nothing is overdue); the errors
		// people find in the first quarter of the reviews.
		quarter := len(batch) / 4
		byConf := append([]*Doc(nil), batch...)
		sort.SliceStable(byConf, func(i, j int) bool { return byConf[i].Conf < byConf[j].Conf })
		// Uncertainty sampling, for comparison: the confidence closest
		// to one half first, the labels a calibration learns most from.
		unsure := append([]*Doc(nil), batch...)
		sort.SliceStable(unsure, func(i, j int) bool { return math.Abs(unsure[i].Conf-0.5) < math.Abs(unsure[j].Conf-0.5) })
		fifoFound, valueFound, unsureFound := 0, 0, 0
		for i := range quarter {
			if batch[i].Wrong {
				fifoFound++
			}
			if byConf[i].Wrong {
				valueFound++
			}
			if unsure[i].Wrong {
				unsureFound++
			}
		}
		queueUnsure += unsureFound
		queueReviews += quarter
		queueFIFO += fifoFound
		queueValue += valueFound
		queueWrong += wrong
		queueDocs += len(batch)
		fmt.Printf("  queue: the first %d of %d reviews find %d errors least confident first, %d closest to one half first, %d first-in-first-out (of %d)\n", quarter, len(batch), valueFound, unsureFound, fifoFound, wrong)
		for i, b := range budgets {
			perfect := oversightbench.PerfectShare(len(batch), wrong, b)
			hind := oversightbench.BestThreshold(sc, b)
			a := &aggs[i]
			a.perfect += perfect
			a.hind += hind.ReviewShare
			a.n++
			if certs[i] == nil {
				a.share += 1
				a.within++
				fmt.Printf("  %.0f%%: no cert; perfect %.3f hindsight %.3f\n", b*100, perfect, hind.ReviewShare)
				continue
			}
			c := certs[i].Certified
			acc, esc := 0, 0
			for _, d := range batch {
				if !d.Failed && d.Conf >= c.Threshold {
					acc++
					if d.Wrong {
						esc++
					}
				}
			}
			share := 1 - float64(acc)/float64(len(batch))
			rate := 0.0
			if acc > 0 {
				rate = float64(esc) / float64(acc)
			}
			a.cert++
			a.share += share
			a.certShare += share
			a.certEsc += esc
			a.certAcc += acc
			a.after += float64(after[i])
			a.esc += rate
			if rate <= b {
				a.within++
			}
			fmt.Printf("  %.0f%%: cert after %d (attempt %d) at %.4f (%d of %d, tested %d); to people %.3f, escaped %.3f (%d/%d); perfect %.3f hindsight %.3f\n", b*100, after[i], attempts[i], c.Threshold, c.Wrong, c.Accepted, certs[i].Tested, share, rate, esc, acc, perfect, hind.ReviewShare)
		}
		if *hotlDocs > 0 {
			var inHOTL []*Doc
			for i, b := range budgets {
				if certs[i] == nil {
					continue
				}
				if inHOTL == nil {
					inHOTL = process(rng(2_000_000, 2_000_000+*hotlDocs))
					calib(inHOTL)
				}
				// The evidence of the first certificate: the held-out
				// documents reviewed in hitl until it.
				var base []certify.Sample
				for _, d := range all[:after[i]] {
					if d.HeldOut {
						base = append(base, sampleOf(d))
					}
				}
				for w, naive := range []bool{false, true} {
					worlds := runHOTL(inHOTL, base, b, certs[i].Certified.Threshold, attempts[i], *rate, checkpoints, naive, *laxer)
					name := "uniform"
					if naive {
						name = "naive"
					}
					ha := &hotlAggs[i][w]
					ha.n++
					for j, cp := range worlds {
						share, esc, acc := onBatch(batch, cp.threshold)
						at := &ha.at[j]
						at.share += share
						at.esc += esc
						at.acc += acc
						at.added += cp.added
						at.unsampled += cp.unsampled
						at.recerts += cp.recerts
						at.seenShare += cp.seenShare
						if cp.certified {
							at.certified++
						}
						if acc > 0 && float64(esc)/float64(acc) > b {
							at.over++
						}
						fmt.Printf("  %.0f%% %s after %d in hotl (attempt %d): %s, in force %.4f; %d samples added (%d decided outside the sample), to people %.3f, escaped %.3f (%d/%d)\n",
							b*100, name, cp.docs, cp.attempt, certified(cp.got), cp.threshold, cp.added, cp.unsampled, share, ratio(esc, acc), esc, acc)
					}
				}
			}
		}
		if *dump != "" {
			for _, d := range append(all, batch...) {
				raw, _ := json.Marshal(d)
				var mm map[string]any
				json.Unmarshal(raw, &mm)
				mm["seed"] = seed
				dumpDocs = append(dumpDocs, mm)
			}
		}
		m.Close()
	}
	fmt.Println("summary:")
	if queueReviews > 0 {
		per := func(n int) float64 { return 100 * float64(n) / float64(queueReviews) }
		fmt.Printf("  queue: in the first quarter of the reviews (%d in all), errors found per hundred reviews: least confident first %.1f, closest to one half first (uncertainty sampling) %.1f, first-in-first-out %.1f (errors among all %d documents: %.1f per hundred)\n",
			queueReviews, per(queueValue), per(queueUnsure), per(queueFIFO), queueDocs, 100*float64(queueWrong)/float64(queueDocs))
	}
	for i, b := range budgets {
		a := aggs[i]
		af := 0.0
		esc := 0.0
		if a.cert > 0 {
			af, esc = a.after/float64(a.cert), a.esc/float64(a.cert)
		}
		fmt.Printf("  %.0f%%: certified %d/%d after %.0f, to people %.3f, perfect %.3f, hindsight %.3f, escaped %.3f, within %d/%d; a perfect ranking certified after %d reviewed: %d/%d, to people %.3f\n", b*100, a.cert, a.n, af, a.share/float64(a.n), a.perfect/float64(a.n), a.hind/float64(a.n), esc, a.within, a.n, *reviewed, a.perfectCert, a.n, a.perfectCertShare/float64(a.n))
	}
	if *hotlDocs > 0 {
		fmt.Printf("in hotl at audit sample rate %g, per budget and documents in hotl, over the seeds with a first certificate (to people: share of the held-out batch; escaped: pooled over the seeds; over: seeds whose escaped rate on the batch is above the budget):\n", *rate)
		for i, b := range budgets {
			a := aggs[i]
			for w, name := range []string{"uniform", "naive"} {
				ha := hotlAggs[i][w]
				if ha.n == 0 {
					continue
				}
				for j, cp := range checkpoints {
					at := ha.at[j]
					n := float64(ha.n)
					fmt.Printf("  %.0f%% %-7s after %5d: first certificate %d/%d, to people %.3f, escaped %.4f (%d/%d); again: certified %d/%d (%.1f recertifications), %.0f samples added (%.0f decided outside the sample; %.3f of the period seen by a person), to people %.3f, escaped %.4f (%d/%d), over budget %d/%d\n",
						b*100, name, cp, a.cert, a.n, a.certShare/float64(a.cert), ratio(a.certEsc, a.certAcc), a.certEsc, a.certAcc, at.certified, ha.n, float64(at.recerts)/n, float64(at.added)/n, float64(at.unsampled)/n, at.seenShare/n, at.share/n, ratio(at.esc, at.acc), at.esc, at.acc, at.over, ha.n)
				}
			}
		}
	}
	if *dump != "" {
		raw, _ := json.Marshal(dumpDocs)
		os.WriteFile(*dump, raw, 0o644)
	}
}

// hotlAgg sums a way of certifying again in hotl over the seeds with a
// first certificate at a budget, at each checkpoint.
type hotlAgg struct {
	n  int
	at []checkpointAgg
}

type checkpointAgg struct {
	share, seenShare                                     float64
	esc, acc, added, unsampled, recerts, certified, over int
}

// checkpoint is where a period in hotl stands after docs documents: the
// threshold in force, the attempts so far, the samples the period added.
type checkpoint struct {
	docs, attempt, added, unsampled, recerts int
	// threshold is the one in force after the checkpoint; got the one the
	// latest recertification certified (-1: refused).
	threshold, got, seenShare float64
	// certified: the latest recertification certified.
	certified bool
}

// hotlCheckpoints are the counts of documents in hotl after which it
// certifies again: every every documents, and after the last.
func hotlCheckpoints(n, every int) []int {
	if n <= 0 {
		return nil
	}
	if every <= 0 || every > n {
		every = n
	}
	var out []int
	for k := every; k < n; k += every {
		out = append(out, k)
	}
	return append(out, n)
}

// runHOTL runs docs, in order, in hotl at threshold and audit sample rate
// rate after a first certificate at attempt attempt, and certifies again at
// each checkpoint on base plus the period's evidence: its uniform sample
// (simulate.Sampled), or, naive, every document a person saw. A
// certificate puts its threshold in force for the documents after it; a
// refusal leaves the one in force, and so, when laxer is set, does a
// certificate of a stricter threshold.
func runHOTL(docs []*Doc, base []certify.Sample, budget, threshold float64, attempt int, rate float64, checkpoints []int, naive, laxer bool) []checkpoint {
	// The store's numbering of auto-accepted documents per stratum, in
	// arrival order (activities.DrawAudit).
	counts := map[string]int64{}
	samples := append([]certify.Sample(nil), base...)
	var out []checkpoint
	cp := checkpoint{threshold: threshold, attempt: attempt}
	seen := 0
	for k, d := range docs {
		outcome := countersign.OutcomeHumanReview
		if !d.Failed && d.Conf >= cp.threshold {
			outcome = countersign.OutcomeAutoAccept
			stratum := activities.Stratum(oversightbench.TaskType, d.Conf)
			counts[stratum]++
			if activities.SystematicFrom(counts[stratum], rate, activities.Offset(stratum)) {
				outcome = countersign.OutcomeAutoAcceptWithAudit
			}
		}
		doc := &countersign.Document{ID: d.ID, CreatedAt: d.created, Route: &countersign.Route{Mode: countersign.ModeHOTL, Outcome: outcome, Threshold: cp.threshold, AuditSampleRate: rate}}
		byPerson := outcome != countersign.OutcomeAutoAccept
		if byPerson {
			seen++
		}
		switch {
		case !d.HeldOut:
			// Not after the calibration's training period: cannot happen
			// for documents after the reviewed ones, but certify would
			// leave it out.
		case naive && byPerson, !naive && simulate.Sampled(doc):
			samples = append(samples, sampleOf(d))
			cp.added++
		case byPerson:
			cp.unsampled++
		}
		if len(out) < len(checkpoints) && k+1 == checkpoints[len(out)] {
			cp.attempt++
			r, err := certify.TestBatchAttempt(samples, budget, 0.95, horizon, cp.attempt)
			must(err)
			cp.certified, cp.got = r.Certified != nil, -1
			if cp.certified {
				cp.got = r.Certified.Threshold
				cp.recerts++
				if !laxer || r.Certified.Threshold < cp.threshold {
					cp.threshold = r.Certified.Threshold
				}
			}
			cp.docs = k + 1
			cp.seenShare = float64(seen) / float64(k+1)
			out = append(out, cp)
		}
	}
	return out
}

// sampleOf is a document as certify tests it.
func sampleOf(d *Doc) certify.Sample {
	route := simulate.RouteEligible
	if d.Failed {
		route = simulate.RouteReview
	}
	return certify.Sample{Confidence: d.Conf, Route: route, Wrong: d.Wrong}
}

// onBatch is the share of batch a threshold sends to a person, and the
// wrong and all documents it accepts.
func onBatch(batch []*Doc, threshold float64) (share float64, esc, acc int) {
	for _, d := range batch {
		if !d.Failed && d.Conf >= threshold {
			acc++
			if d.Wrong {
				esc++
			}
		}
	}
	return 1 - float64(acc)/float64(len(batch)), esc, acc
}

func ratio(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func certified(threshold float64) string {
	if threshold >= 0 {
		return fmt.Sprintf("certified %.4f", threshold)
	}
	return "refused"
}

// cachedDoc is a Doc as the cache keeps it, its unexported parts too.
type cachedDoc struct {
	Doc
	Created    time.Time                    `json:"created"`
	Confidence *countersign.Confidence      `json:"confidence"`
	Outcome    *calibration.DocumentOutcome `json:"outcome"`
}

func cacheFile(dir string, seed uint64) string {
	return filepath.Join(dir, fmt.Sprintf("seed-%d.json", seed))
}

func loadCache(dir string, seed uint64) map[int]*Doc {
	if dir == "" {
		return nil
	}
	raw, err := os.ReadFile(cacheFile(dir, seed))
	if err != nil {
		return nil
	}
	var docs []cachedDoc
	must(json.Unmarshal(raw, &docs))
	out := map[int]*Doc{}
	for _, c := range docs {
		d := c.Doc
		d.created, d.confidence, d.outcome = c.Created, c.Confidence, c.Outcome
		out[d.Index] = &d
	}
	return out
}

func saveCache(dir string, seed uint64, docs map[int]*Doc) {
	var out []cachedDoc
	for _, d := range docs {
		out = append(out, cachedDoc{Doc: *d, Created: d.created, Confidence: d.confidence, Outcome: d.outcome})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	raw, err := json.Marshal(out)
	must(err)
	must(os.MkdirAll(dir, 0o755))
	must(os.WriteFile(cacheFile(dir, seed), raw, 0o644))
}

func aucOf(ds []*Doc) float64 {
	var s []calibration.Sample
	for _, d := range ds {
		s = append(s, calibration.Sample{Score: d.Conf, Correct: !d.Wrong})
	}
	a, _ := calibration.AUC(s)
	return a
}

func run(x *llm.OpenAI, m *oversightbench.Model, n *oversightbench.Notice, created time.Time) *Doc {
	ctx := context.Background()
	cdoc := &countersign.Document{ID: n.ExternalID, Content: n.Text}
	d := &Doc{Index: n.Index, ID: n.ExternalID, created: created, Reject: n.Reject != ""}
	draft, err := x.Extract(ctx, tt, cdoc)
	if err != nil {
		draft = &countersign.Draft{Error: err.Error()}
	}
	if !draft.Failed() {
		if check, err := llm.NewRules().Extract(ctx, tt, cdoc); err == nil {
			draft.CrossCheck = check.Fields
		}
	}
	d.Failed = draft.Failed()
	d.Draft = draft.Fields
	conf := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: n.Text})
	d.confidence = conf
	d.Raw = conf.Overall
	d.Wrong = !oversightbench.Right(n, draft.Fields)
	if n.Reject == "" {
		d.WrongF = oversightbench.WrongFields(n, draft.Fields)
	}
	for _, fp := range m.Plan(n) {
		if fp.Error != "" {
			if d.Planned == nil {
				d.Planned = map[string]oversightbench.ErrorKind{}
				d.Confident = map[string]bool{}
			}
			d.Planned[fp.Field] = fp.Error
			d.Confident[fp.Field] = fp.Confident
		}
	}
	if n.Reject == "" && !d.Failed {
		o := &calibration.DocumentOutcome{ID: d.ID, CreatedAt: created, TaskTypeVersion: tt.Version, Confidence: conf, Correct: !d.Wrong}
		for _, name := range draft.Fields.Names() {
			fs, ok := conf.Fields[name]
			if !ok {
				continue
			}
			truth, has := n.Truth[name]
			o.Fields = append(o.Fields, calibration.FieldOutcome{
				Field: name, Raw: calibration.RawScore(conf, fs), Signals: fs.Signals, Words: fs.Words,
				Failed:  len(fs.Signals) > 0 && scoring.HardFailure(fs.Signals),
				Correct: has && countersign.Equivalent(draft.Fields[name], truth),
			})
		}
		for _, name := range oversightbench.Fields {
			fs, ok := conf.Fields[name]
			if _, drafted := draft.Fields[name]; drafted || !ok || !scoring.IsOmission(fs) {
				continue
			}
			_, has := n.Truth[name]
			o.Fields = append(o.Fields, calibration.FieldOutcome{Field: name, Raw: calibration.RawScore(conf, fs), Signals: fs.Signals, Correct: !has})
		}
		o.Missing = calibration.MissingRequired(conf, draft.Fields)
		d.outcome = o
	}
	return d
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
