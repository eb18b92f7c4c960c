package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// heartbeats makes every activity scheduled with a HeartbeatTimeout
// heartbeat while it runs, whatever it waits on (a model, a webhook, the
// store). The heartbeat says only that the worker is alive: when the
// process dies, Temporal notices within the HeartbeatTimeout and retries
// the activity on another worker, instead of after its StartToCloseTimeout
// (minutes for a model call). An activity that returns before the first
// beat sends none.
//
// A beat carries no details, and Temporal keeps the details of the last
// heartbeat: an activity that keeps its own in heartbeats (Notify keeps the
// message it posted) must be scheduled without a HeartbeatTimeout.
type heartbeats struct {
	interceptor.WorkerInterceptorBase
}

func (*heartbeats) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &heartbeating{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type heartbeating struct {
	interceptor.ActivityInboundInterceptorBase
}

// beatsPerTimeout is how many beats are due within a HeartbeatTimeout.
// The SDK sends at most one per 0.8 timeouts and holds the others back to
// the end of that window, so at least one reaches Temporal in each.
const beatsPerTimeout = 3

func (h *heartbeating) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	timeout := activity.GetInfo(ctx).HeartbeatTimeout
	if timeout <= 0 {
		return h.Next.ExecuteActivity(ctx, in)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(timeout / beatsPerTimeout)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	defer func() {
		close(done)
		<-stopped
	}()
	return h.Next.ExecuteActivity(ctx, in)
}
