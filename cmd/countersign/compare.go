package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
)

// comparisonFlags are decide's flags for a comparison's fields.
type comparisonFlags struct {
	ranking         string
	scores          []string
	unsafe          []string
	allUnacceptable string
	improved        string
	improvedFile    string
}

func (f *comparisonFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ranking, "ranking", "", `comparison: the candidate IDs best first, e.g. "b>a=c" (= ranks equal)`)
	cmd.Flags().StringArrayVar(&f.scores, "score", nil, "comparison: CRITERION=ID:SCORE,ID:SCORE... (repeatable, one per criterion)")
	cmd.Flags().StringArrayVar(&f.unsafe, "unsafe", nil, "comparison: mark candidate ID=REASON_CODE unsafe (repeatable)")
	cmd.Flags().StringVar(&f.allUnacceptable, "all-unacceptable", "", "comparison: mark every candidate unacceptable, with this reason code")
	cmd.Flags().StringVar(&f.improved, "improved", "", "comparison: an improved response, written out")
	cmd.Flags().StringVar(&f.improvedFile, "improved-file", "", "comparison: read the improved response from this file")
}

// apply sets the comparison fields the flags give in patch.
func (f *comparisonFlags) apply(patch countersign.Fields) error {
	if f.ranking != "" {
		tiers, err := parseRanking(f.ranking)
		if err != nil {
			return err
		}
		patch[countersign.FieldRanking] = countersign.RankingValue(tiers)
	}
	if len(f.scores) > 0 {
		scores := map[string]any{}
		for _, s := range f.scores {
			criterion, list, ok := strings.Cut(s, "=")
			if !ok || criterion == "" || list == "" {
				return fmt.Errorf("--score %s: use CRITERION=ID:SCORE,ID:SCORE", s)
			}
			byCand := map[string]any{}
			for _, pair := range strings.Split(list, ",") {
				id, v, ok := strings.Cut(strings.TrimSpace(pair), ":")
				n, err := strconv.Atoi(v)
				if !ok || id == "" || err != nil {
					return fmt.Errorf("--score %s: %q is not ID:SCORE with an integer score", s, pair)
				}
				byCand[id] = n
			}
			scores[criterion] = byCand
		}
		patch[countersign.FieldScores] = scores
	}
	if len(f.unsafe) > 0 {
		var marks []any
		for _, u := range f.unsafe {
			id, code, ok := strings.Cut(u, "=")
			if !ok || id == "" || code == "" {
				return fmt.Errorf("--unsafe %s: use CANDIDATE_ID=REASON_CODE", u)
			}
			marks = append(marks, map[string]any{"candidate": id, "code": code})
		}
		patch[countersign.FieldUnsafe] = marks
	}
	if f.allUnacceptable != "" {
		patch[countersign.FieldAllUnacceptable] = f.allUnacceptable
	}
	switch {
	case f.improved != "" && f.improvedFile != "":
		return errors.New("give --improved or --improved-file, not both")
	case f.improved != "":
		patch[countersign.FieldImprovedResponse] = f.improved
	case f.improvedFile != "":
		raw, err := os.ReadFile(f.improvedFile)
		if err != nil {
			return fmt.Errorf("--improved-file: %w", err)
		}
		patch[countersign.FieldImprovedResponse] = strings.TrimRight(string(raw), "\n")
	}
	return nil
}

// mergeScores lays the --score criteria over the draft's scores, one
// criterion at a time: a criterion given replaces the draft's scores of
// that criterion, the others keep the draft's. It reports whether there
// were draft scores to keep.
func mergeScores(draft any, given map[string]any) (map[string]any, bool) {
	base, ok := draft.(map[string]any)
	if !ok || len(base) == 0 {
		return given, false
	}
	out := make(map[string]any, len(base)+len(given))
	for name, v := range base {
		out[name] = v
	}
	for name, v := range given {
		out[name] = v
	}
	return out, true
}

// parseRanking reads "b>a=c": tiers separated by ">", candidates ranked
// equal by "=".
func parseRanking(s string) ([][]string, error) {
	var tiers [][]string
	for _, part := range strings.Split(s, ">") {
		var tier []string
		for _, id := range strings.Split(part, "=") {
			id = strings.TrimSpace(id)
			if id == "" {
				return nil, fmt.Errorf("--ranking %q: an empty candidate ID; write IDs best first, like b>a>c, or b>a=c for a tie", s)
			}
			tier = append(tier, id)
		}
		tiers = append(tiers, tier)
	}
	return tiers, nil
}
