package countersign

import (
	"fmt"
	"math"
	"time"
)

// Certificate is the evidence that an auto-accept threshold keeps a task
// type's error rate among auto-accepted documents within a budget: on
// reviewed documents the calibration did not train on, the threshold passed
// a sequence of tests (from the strictest threshold down, with a second
// start: internal/certify) of "the error rate among the documents it
// accepts is above Budget", which together keep their error at 1-Level. With
// probability at least Level the procedure certifies no threshold whose
// error rate is above the budget, on documents like those it was shown.
type Certificate struct {
	// ID is TaskType/cN (CertificateID); the store numbers certificates.
	ID       string `json:"id"`
	TaskType string `json:"task_type"`
	Number   int    `json:"number"`
	// Calibration is the version of the calibration whose confidence it
	// certifies (the one active when it was made); empty for the
	// uncalibrated confidence.
	Calibration string `json:"calibration,omitempty"`
	// PolicyVersion is the task type policy whose risk and reject rules
	// routed the documents.
	PolicyVersion string `json:"policy_version"`
	// Budget is the error budget at Level: for a certificate of the rate,
	// the error rate among documents accepted at Threshold is within it;
	// for a batch certificate (Horizon set), at most floor(Budget·Horizon)
	// of the next Horizon documents accepted at Threshold are wrong, which
	// it shows by certifying the rate within RateBudget
	// (internal/certify: TestBatchAttempt).
	Budget     float64 `json:"budget"`
	Level      float64 `json:"level"`
	Horizon    int     `json:"horizon,omitempty"`
	RateBudget float64 `json:"rate_budget,omitempty"`
	Threshold  float64 `json:"threshold"`
	// Bound is the one-sided Clopper-Pearson upper bound, at TestedAt (at
	// Level when that is unset), of the error rate among accepted documents
	// at Threshold: Wrong of Accepted.
	Bound float64 `json:"bound"`
	// Attempt is which attempt at this task type and budget made the
	// certificate (1: the first; 0 in certificates made before attempts
	// were counted), and TestedAt the level its sequence ran at, stricter
	// than Level from the first on, so that every attempt together keeps
	// Level (internal/certify: AttemptShare).
	Attempt  int     `json:"attempt,omitempty"`
	TestedAt float64 `json:"tested_at,omitempty"`
	Accepted int     `json:"accepted"`
	Wrong    int     `json:"wrong"`
	// Documents is how many held-out reviewed documents the test used;
	// ReviewShare the share of them that would go to a person at Threshold
	// (below it, or sent there by a rule or a failed draft).
	Documents   int     `json:"documents"`
	ReviewShare float64 `json:"review_share"`
	// Tested is how many thresholds the sequence tested, the certified one
	// included.
	Tested int `json:"tested"`
	// Since and Until are the creation times of the oldest and newest
	// document used: the data window.
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Rate is the error rate c bounds among the documents accepted at its
// threshold: Budget, or a batch certificate's stricter RateBudget. A
// supervisor watching what c promises watches this rate.
func (c *Certificate) Rate() float64 {
	if c.Horizon > 0 {
		return c.RateBudget
	}
	return c.Budget
}

// Allowed is how many of a batch certificate's Horizon documents may be
// wrong: floor(Budget·Horizon), a hair over the product so that 29% of 100
// is 29 (internal/certify: BatchRate). 0 for a certificate of the rate.
func (c *Certificate) Allowed() int {
	return int(math.Floor(c.Budget*float64(c.Horizon) + 1e-9))
}

// CertificateID names the n-th certificate of a task type.
func CertificateID(taskType string, n int) string { return fmt.Sprintf("%s/c%d", taskType, n) }

// SetNumber makes c the n-th certificate of its task type.
func (c *Certificate) SetNumber(n int) { c.Number, c.ID = n, CertificateID(c.TaskType, n) }
