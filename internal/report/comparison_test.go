package report_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
)

// TestComparisonAgreement builds the report of a comparison task type from
// hand-made items with candidates a, b, c (rank 0 best; a candidate a
// ranking leaves out ranks below the last tier) and checks every figure
// against the arithmetic in the comments.
//
//	P1 (W45) judge a>b>c; rita approves, sue corrects to b>a>c and
//	   helpfulness a 5→4 (final sue's). Pairs (a,b) discordant, (a,c) and
//	   (b,c) concordant: tau-b (2-1)/3 = 1/3, pairwise 2/3, for the two
//	   people and for judge vs final alike. helpfulness diffs 1,0,0.
//	P2 (W45) judge a>b>c; tom corrects to a=b>c. (a,b) tied in the final
//	   only, (a,c), (b,c) concordant: n0 3, n1 0, n2 1, tau-b
//	   2/sqrt(3·2) = 0.8165; pairwise 2/3 (the tie disagrees). Scores kept.
//	P3 (W46) judge c>b>a; ana corrects helpfulness a 1→3 only: tau-b 1,
//	   pairwise 1; helpfulness diffs 2,0,0.
//	P4 (W46) pick_best: judge picks b, ana picks a. Ranks judge b0 a1 c1,
//	   final a0 b1 c1: (a,b) discordant, (a,c) tied by the judge, (b,c)
//	   tied in the final: C 0, D 1, tau-b -1/sqrt(2·2) = -0.5; pairwise 0.
//	P5 auto-accepted with nobody looking; P6 rejected by a person: no
//	   ranking settled by a person, not counted.
//
// Judge overall, 4 items: pairwise (2/3+2/3+1+0)/4 = 7/12; tau-b
// (1/3 + 2/sqrt6 + 1 - 0.5)/4. helpfulness 12 scores, 10 equal, |diff|
// sum 3: exact 10/12, MAD 0.25; safety 12 scores all equal.
// W45: pairwise 2/3, tau-b (1/3 + 2/sqrt6)/2, helpfulness 5/6, MAD 1/6.
// W46: pairwise 1/2, tau-b 1/4, helpfulness 5/6, MAD 2/6.
// People: one item (P1), tau-b 1/3, pairwise 2/3.
func TestComparisonAgreement(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	w45 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	w46 := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	content := `{"id":"i","prompt":"p","candidates":[{"id":"a","response":"A"},{"id":"b","response":"B"},{"id":"c","response":"C"}]}`
	scores := func(help [3]int) map[string]any {
		return map[string]any{
			"helpfulness": map[string]any{"a": float64(help[0]), "b": float64(help[1]), "c": float64(help[2])},
			"safety":      map[string]any{"a": 4.0, "b": 4.0, "c": 4.0},
		}
	}
	type decision struct {
		by     string
		action countersign.Action
		patch  countersign.Fields
	}
	put := func(id string, at time.Time, draft countersign.Fields, final *countersign.Final, decisions ...decision) {
		t.Helper()
		doc := &countersign.Document{ID: id, TaskType: "rank", TaskTypeVersion: "v1", Content: content, ContentSHA256: id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: at}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		status := countersign.StatusAccepted
		if final.Action == countersign.ActionReject {
			status = countersign.StatusRejected
		}
		final.DecidedAt = at
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: &countersign.Draft{Fields: draft, Extractor: countersign.ExtractorOpenAI}, Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview}, Final: final}); err != nil {
			t.Fatal(err)
		}
		if len(decisions) == 0 {
			return
		}
		r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "rank", Kind: countersign.ReviewGate, Status: countersign.ReviewPending, CreatedAt: at, DueAt: at.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		for i, d := range decisions {
			dec := &countersign.Decision{ID: fmt.Sprintf("%s/%d", r.ID, i), ReviewID: r.ID, DocumentID: id, Action: d.action, Fields: d.patch, Actor: d.by, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: at.Add(time.Duration(i+1) * time.Minute)}
			if err := s.RecordDecision(ctx, dec, i == len(decisions)-1); err != nil {
				t.Fatal(err)
			}
		}
	}
	draft := func(ranking []any, help [3]int) countersign.Fields {
		return countersign.Fields{"ranking": ranking, "scores": scores(help)}
	}
	final := func(by string, action countersign.Action, fields countersign.Fields, reviewers ...string) *countersign.Final {
		return &countersign.Final{Fields: fields, Action: action, DecidedBy: by, Lineage: &countersign.Lineage{Reviewers: reviewers}}
	}

	d1 := draft([]any{"a", "b", "c"}, [3]int{5, 3, 1})
	p1 := countersign.Fields{"ranking": []any{"b", "a", "c"}, "scores": scores([3]int{4, 3, 1})}
	put("P1", w45, d1, final("sue", countersign.ActionCorrect, countersign.Correct(d1, p1), "rita", "sue"),
		decision{"rita", countersign.ActionApprove, nil}, decision{"sue", countersign.ActionCorrect, p1})
	d2 := draft([]any{"a", "b", "c"}, [3]int{5, 3, 1})
	p2 := countersign.Fields{"ranking": []any{[]any{"a", "b"}, "c"}}
	put("P2", w45, d2, final("tom", countersign.ActionCorrect, countersign.Correct(d2, p2), "tom"), decision{"tom", countersign.ActionCorrect, p2})
	d3 := draft([]any{"c", "b", "a"}, [3]int{1, 3, 5})
	p3 := countersign.Fields{"scores": scores([3]int{3, 3, 5})}
	put("P3", w46, d3, final("ana", countersign.ActionCorrect, countersign.Correct(d3, p3), "ana"), decision{"ana", countersign.ActionCorrect, p3})
	d4 := draft([]any{"b"}, [3]int{2, 4, 1})
	p4 := countersign.Fields{"ranking": []any{"a"}}
	put("P4", w46, d4, final("ana", countersign.ActionCorrect, countersign.Correct(d4, p4), "ana"), decision{"ana", countersign.ActionCorrect, p4})
	d5 := draft([]any{"c", "a", "b"}, [3]int{1, 1, 1})
	put("P5", w46, d5, &countersign.Final{Fields: d5, DecidedBy: countersign.SystemActor})
	d6 := draft([]any{"c", "a", "b"}, [3]int{1, 1, 1})
	put("P6", w46, d6, final("ana", countersign.ActionReject, nil, "ana"), decision{"ana", countersign.ActionReject, nil})

	r, err := report.Build(ctx, s, "rank", w46.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Comparison
	if c == nil {
		t.Fatal("no comparison figures for a task type of rankings")
	}
	checkRank(t, "people", c.People, 1, 2.0/3, 1, 1.0/3)
	checkRank(t, "judge", c.Judge, 4, 7.0/12, 4, (1.0/3+2/math.Sqrt(6)+1-0.5)/4)
	checkCriteria(t, "all", c.Criteria, 12, 10.0/12, 0.25)
	if len(c.Weeks) != 2 || c.Weeks[0].Week != "2026-W45" || c.Weeks[1].Week != "2026-W46" {
		t.Fatalf("weeks = %+v", c.Weeks)
	}
	checkRank(t, "W45", c.Weeks[0].Judge, 2, 2.0/3, 2, (1.0/3+2/math.Sqrt(6))/2)
	checkCriteria(t, "W45", c.Weeks[0].Criteria, 6, 5.0/6, 1.0/6)
	checkRank(t, "W46", c.Weeks[1].Judge, 2, 0.5, 2, 0.25)
	checkCriteria(t, "W46", c.Weeks[1].Criteria, 6, 5.0/6, 2.0/6)

	// An extraction task type has no comparison figures.
	if r, err := report.Build(ctx, s, "other", w46); err != nil || r.Comparison != nil {
		t.Fatalf("other task type: %v, %+v", err, r)
	}
}

// TestComparisonAgreementOfNoItems: rankings nobody decided yet give
// counts of 0 and no figure (n/a), not a figure of 0.
func TestComparisonAgreementOfNoItems(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	doc := &countersign.Document{ID: "Q", TaskType: "rank", TaskTypeVersion: "v1", Content: "{}", ContentSHA256: "Q", Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: at}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	status := countersign.StatusAwaitingReview
	draft := &countersign.Draft{Fields: countersign.Fields{"ranking": []any{"a", "b"}}, Extractor: countersign.ExtractorOpenAI}
	if err := s.UpdateDocument(ctx, "Q", countersign.DocumentUpdate{Status: &status, Draft: draft}); err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, s, "rank", at)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Comparison
	if c == nil || c.People.Items != 0 || c.People.PairwiseAgreement != nil || c.People.TauB != nil ||
		c.Judge.Items != 0 || c.Judge.PairwiseAgreement != nil || c.Judge.TauB != nil || len(c.Criteria) != 0 || len(c.Weeks) != 0 {
		t.Fatalf("comparison = %+v", c)
	}
}

func checkRank(t *testing.T, what string, got report.RankAgreement, items int, agreement float64, tauItems int, tau float64) {
	t.Helper()
	if got.Items != items || got.PairwiseAgreement == nil || !near(*got.PairwiseAgreement, agreement) ||
		got.TauItems != tauItems || got.TauB == nil || !near(*got.TauB, tau) {
		t.Errorf("%s: %+v (pairwise %v, tau-b %v); want %d items, pairwise %v, tau-b %v over %d", what, got, deref(got.PairwiseAgreement), deref(got.TauB), items, agreement, tau, tauItems)
	}
}

// checkCriteria: helpfulness as given, safety always agreeing.
func checkCriteria(t *testing.T, what string, got []report.CriterionAgreement, n int, exact, mad float64) {
	t.Helper()
	if len(got) != 2 || got[0].Criterion != "helpfulness" || got[1].Criterion != "safety" {
		t.Fatalf("%s: criteria %+v", what, got)
	}
	h, s := got[0], got[1]
	if h.Scores != n || !near(*h.Exact, exact) || !near(*h.MeanAbsDiff, mad) {
		t.Errorf("%s: helpfulness %d scores, exact %v, MAD %v; want %d, %v, %v", what, h.Scores, *h.Exact, *h.MeanAbsDiff, n, exact, mad)
	}
	if s.Scores != n || *s.Exact != 1 || *s.MeanAbsDiff != 0 {
		t.Errorf("%s: safety %d scores, exact %v, MAD %v; want %d, 1, 0", what, s.Scores, *s.Exact, *s.MeanAbsDiff, n)
	}
}

// TestComparisonConcordance: Kendall's W of three or more people's
// rankings of the same item, the values worked by hand in
// quality.TestKendallW. Candidates a, b, c, d.
//
//	C1 rita a>b>c>d, sue b>a>d>c, tom a>c>b>d: ranks (1,2,3,4), (2,1,4,3),
//	   (1,3,2,4): W = 348/540.
//	C2 rita a>b=c>d, sue a>b>c>d, tom b>a>c>d: W = 450/522 (the tie
//	   corrected for).
//	C3 two people only; C4 three, one of whom rejected: not counted.
//
// Mean W over 2 items, 6 rankings: (348/540 + 450/522) / 2.
func TestComparisonConcordance(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	content := `{"id":"i","prompt":"p","candidates":[{"id":"a","response":"A"},{"id":"b","response":"B"},{"id":"c","response":"C"},{"id":"d","response":"D"}]}`
	draft := countersign.Fields{"ranking": []any{"a", "b", "c", "d"}}
	put := func(id string, rankings map[string]any) {
		t.Helper()
		doc := &countersign.Document{ID: id, TaskType: "rank", TaskTypeVersion: "v1", Content: content, ContentSHA256: id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: at}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		var people []string
		for _, by := range []string{"rita", "sue", "tom"} {
			if _, ok := rankings[by]; ok {
				people = append(people, by)
			}
		}
		status := countersign.StatusAccepted
		final := &countersign.Final{Fields: draft, Action: countersign.ActionCorrect, DecidedBy: people[len(people)-1], DecidedAt: at.Add(time.Hour),
			Lineage: &countersign.Lineage{Reviewers: people}}
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: &countersign.Draft{Fields: draft, Extractor: countersign.ExtractorOpenAI},
			Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview}, Final: final}); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "rank", Kind: countersign.ReviewGate, Status: countersign.ReviewPending, CreatedAt: at, DueAt: at.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		i := 0
		for _, by := range []string{"rita", "sue", "tom"} {
			ranking, ok := rankings[by]
			if !ok {
				continue
			}
			dec := &countersign.Decision{ID: fmt.Sprintf("%s/%d", r.ID, i), ReviewID: r.ID, DocumentID: id, Action: countersign.ActionCorrect,
				Fields: countersign.Fields{"ranking": ranking}, Actor: by, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: at.Add(time.Duration(i+1) * time.Minute)}
			if ranking == nil {
				dec.Action, dec.Fields, dec.Reason = countersign.ActionReject, nil, "off topic"
			}
			if err := s.RecordDecision(ctx, dec, i == len(people)-1); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
	put("C1", map[string]any{"rita": []any{"a", "b", "c", "d"}, "sue": []any{"b", "a", "d", "c"}, "tom": []any{"a", "c", "b", "d"}})
	put("C2", map[string]any{"rita": []any{"a", []any{"b", "c"}, "d"}, "sue": []any{"a", "b", "c", "d"}, "tom": []any{"b", "a", "c", "d"}})
	put("C3", map[string]any{"rita": []any{"d", "c", "b", "a"}, "sue": []any{"a", "b", "c", "d"}})
	put("C4", map[string]any{"rita": []any{"d", "c", "b", "a"}, "sue": []any{"a", "b", "c", "d"}, "tom": nil})
	r, err := report.Build(ctx, s, "rank", at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := r.Comparison.Concordance
	want := (348.0/540 + 450.0/522) / 2
	if got.Items != 2 || got.Rankings != 6 || got.KendallW == nil || !near(*got.KendallW, want) {
		t.Fatalf("concordance %+v (W %v), want 2 items, 6 rankings, W %v", got, deref(got.KendallW), want)
	}
}
