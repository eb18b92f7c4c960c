package tasktype_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/tasktype"
)

// TestJudgeModelSettingsChecked: judge settings without a judge, or a judge
// endpoint without its model, are refused naming the key.
func TestJudgeModelSettingsChecked(t *testing.T) {
	for _, tc := range []struct{ model, says string }{
		{"judge_model: other", "model.judge_model: configures the judge, which is off"},
		{"judge: true\n  judge_base_url: http://judge.internal/v1", "model.judge_model: is required with model.judge_base_url"},
		{"judge: true\n  judge_model: other\n  judge_base_url: judge.internal", "model.judge_base_url: must be an http or https URL"},
		{"judge: true\n  judge_model: other\n  judge_api_key_env: sk-12345", "model.judge_api_key_env: must name an environment variable"},
	} {
		spec := "name: t\nfields: {type: object, properties: {a: {type: string}}}\nmodel:\n  " + tc.model + "\npolicy: {mode: hitl}\n"
		_, err := tasktype.Parse([]byte(spec), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), "t.yaml: "+tc.says) {
			t.Errorf("%q: err = %v, want %q", tc.model, err, tc.says)
		}
	}
	ok := "name: t\nfields: {type: object, properties: {a: {type: string}}}\nmodel:\n  judge: true\n  judge_model: other\n  judge_base_url: http://judge.internal/v1\n  judge_api_key_env: JUDGE_KEY\npolicy: {mode: hitl}\n"
	tt, err := tasktype.Parse([]byte(ok), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m := tt.Model; m.JudgeModel != "other" || m.JudgeBaseURL != "http://judge.internal/v1" || m.JudgeAPIKeyEnv != "JUDGE_KEY" {
		t.Errorf("model = %+v", m)
	}
}
