// Package quality holds the statistics of human-on-the-loop supervision and
// of review quality. Documents a task type auto-accepts are sampled for
// audit; an audited document the auditor corrected has escaped. From audit
// outcomes the supervisor bounds the escaped-error rate (Bounds: a
// confidence sequence, valid however often it is looked at, or Wilson and
// Clopper-Pearson, valid at one look; Evaluate), finds the auto-accept threshold that keeps it within budget
// (Histogram, Threshold), and reports how far reviewers agree (CohenKappa;
// KendallTauB and PairwiseAgreement for rankings)
// and how long reviews take (Percentile).
//
// Everything here is a pure function of its arguments: the same input gives
// bit-identical output, so a workflow can recompute a decision on replay.
package quality
