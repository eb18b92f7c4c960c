package dispatch

import (
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/countersign/countersign/workflows"
)

// TestNotASupervisor: what the reconciler takes for a run that holds a
// supervisor's ID without supervising, read from the server's describe
// answer alone (never the reconciler's clock).
func TestNotASupervisor(t *testing.T) {
	start := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	describe := func(change func(*workflowpb.WorkflowExecutionInfo, *workflowpb.WorkflowExecutionConfig)) *workflowservice.DescribeWorkflowExecutionResponse {
		info := &workflowpb.WorkflowExecutionInfo{
			Type:          &commonpb.WorkflowType{Name: workflows.SupervisorWorkflowType},
			StartTime:     timestamppb.New(start),
			ExecutionTime: timestamppb.New(start),
		}
		config := &workflowpb.WorkflowExecutionConfig{TaskQueue: &taskqueuepb.TaskQueue{Name: workflows.TaskQueue}}
		if change != nil {
			change(info, config)
		}
		return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: info, ExecutionConfig: config}
	}
	for _, c := range []struct {
		name   string
		change func(*workflowpb.WorkflowExecutionInfo, *workflowpb.WorkflowExecutionConfig)
		want   string
	}{
		{"a supervisor as countersign starts one, or continues it", nil, ""},
		{"no execution config in the answer", func(_ *workflowpb.WorkflowExecutionInfo, c *workflowpb.WorkflowExecutionConfig) {
			*c = workflowpb.WorkflowExecutionConfig{}
		}, ""},
		{"another workflow type", func(i *workflowpb.WorkflowExecutionInfo, _ *workflowpb.WorkflowExecutionConfig) {
			i.Type.Name = "NoSuchWorkflow"
		}, `type "NoSuchWorkflow"`},
		{"another task queue", func(_ *workflowpb.WorkflowExecutionInfo, c *workflowpb.WorkflowExecutionConfig) {
			c.TaskQueue.Name = "nobody-polls-this"
		}, `task queue "nobody-polls-this"`},
		{"a run timeout", func(_ *workflowpb.WorkflowExecutionInfo, c *workflowpb.WorkflowExecutionConfig) {
			c.WorkflowRunTimeout = durationpb.New(time.Second)
		}, "run timeout of 1s"},
		{"a start delayed by a second (a retry, a cron run every minute)", func(i *workflowpb.WorkflowExecutionInfo, _ *workflowpb.WorkflowExecutionConfig) {
			i.ExecutionTime = timestamppb.New(start.Add(time.Second))
		}, "waits until 2026-12-08T02:00:01Z, 1s after its start"},
		{"a start delayed by a day", func(i *workflowpb.WorkflowExecutionInfo, _ *workflowpb.WorkflowExecutionConfig) {
			i.ExecutionTime = timestamppb.New(start.Add(24 * time.Hour))
		}, "24h0m0s after its start"},
	} {
		got := notASupervisor(describe(c.change))
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
