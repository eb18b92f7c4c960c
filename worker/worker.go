// Package worker runs countersign's review workflows and activities: it
// dials Temporal, registers the workflow and the activities on the review
// task queue, and tells whether workers are polling it.
package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/countersign/countersign"

	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/workflows"
)

// ClientOptions say how to reach Temporal.
type ClientOptions struct {
	Address   string
	Namespace string
	// TLS, when any file is set: a client certificate and key for mutual
	// TLS, and a CA bundle to trust instead of the system roots.
	TLSCertFile   string
	TLSKeyFile    string
	TLSCAFile     string
	TLSServerName string
	Logger        *slog.Logger
	// Codec, when set, encodes every payload the client and its workers
	// write (workflow and activity inputs and results, updates, signals,
	// queries) and the messages and stack traces of failures, and decodes
	// what they read.
	Codec converter.PayloadCodec
	// Interceptors wrap the client's calls and, when they are worker
	// interceptors too (like the tracing one), the workers made from it.
	Interceptors []interceptor.ClientInterceptor
}

// Dial connects to Temporal and checks the connection.
func Dial(ctx context.Context, opts ClientOptions) (client.Client, error) {
	co := client.Options{HostPort: opts.Address, Namespace: opts.Namespace}
	if opts.Logger != nil {
		co.Logger = sdklog.NewStructuredLogger(opts.Logger)
	}
	if opts.Codec != nil {
		co.DataConverter, co.FailureConverter = Converters(opts.Codec)
	}
	co.Interceptors = opts.Interceptors
	tlsConfig, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	co.ConnectionOptions.TLS = tlsConfig
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("temporal at %s (namespace %s): %w", opts.Address, opts.Namespace, err)
	}
	return c, nil
}

// Converters are Temporal's default data and failure converters with codec
// applied to every payload, failure messages and stack traces included.
func Converters(codec converter.PayloadCodec) (converter.DataConverter, converter.FailureConverter) {
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
	return dc, temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

func tlsConfig(opts ClientOptions) (*tls.Config, error) {
	if opts.TLSCertFile == "" && opts.TLSKeyFile == "" && opts.TLSCAFile == "" && opts.TLSServerName == "" {
		return nil, nil
	}
	conf := &tls.Config{ServerName: opts.TLSServerName, MinVersion: tls.VersionTLS12}
	if opts.TLSCertFile != "" || opts.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	if opts.TLSCAFile != "" {
		pem, err := os.ReadFile(opts.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal TLS CA: no certificates in %s", opts.TLSCAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// New returns a worker on the review task queue with the workflows and the
// activities registered. Start it with Start or Run. Its activities
// heartbeat while they run when scheduled with a HeartbeatTimeout (see
// heartbeats).
func New(c client.Client, wfs *workflows.Workflows, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{&heartbeats{}}})
	wfs.Register(w)
	w.RegisterActivity(acts)
	return w
}

// Supervisors delivers audit outcomes to the task types' supervisor
// workflows, starting a supervisor on its first outcome.
type Supervisors struct {
	Client client.Client
}

// Report signals the outcome to the supervisor of its task type.
func (s Supervisors) Report(ctx context.Context, o countersign.AuditOutcome) error {
	_, err := s.Client.SignalWithStartWorkflow(ctx, workflows.SupervisorWorkflowID(o.TaskType), workflows.AuditSignal, o,
		client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(o.TaskType), TaskQueue: workflows.TaskQueue},
		workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: o.TaskType})
	if err != nil {
		return fmt.Errorf("report audit of %s to the supervisor of %s: %w", o.DocumentID, o.TaskType, err)
	}
	return nil
}

// Polling reports, as an error, whether no worker polls the review task queue
// for workflow or activity tasks right now.
func Polling(ctx context.Context, c client.Client) error {
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, kind)
		if err != nil {
			return fmt.Errorf("describe task queue %s: %w", workflows.TaskQueue, err)
		}
		if len(resp.GetPollers()) == 0 {
			return fmt.Errorf("%w %s for %s tasks", countersign.ErrNoWorker, workflows.TaskQueue, kindName(kind))
		}
	}
	return nil
}

func kindName(kind enumspb.TaskQueueType) string {
	if kind == enumspb.TASK_QUEUE_TYPE_WORKFLOW {
		return "workflow"
	}
	return "activity"
}
