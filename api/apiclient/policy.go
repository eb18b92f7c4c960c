package apiclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
)

// Certify tests thresholds of a task type at an error budget and level (0:
// the server's default, 0.95) and stores the certificate of the lowest
// that passes. When none does, the error (422) says why and how many more
// reviewed documents it would take.
func (c *Client) Certify(ctx context.Context, taskType string, budget, level float64) (*wire.CertifyResponse, error) {
	req := wire.CertifyRequest{TaskType: taskType, ErrorBudget: budget}
	if level != 0 {
		req.Level = &level
	}
	return c.CertifyWith(ctx, req)
}

// CertifyWith is Certify with every field of the request, a batch
// certificate's horizon among them.
func (c *Client) CertifyWith(ctx context.Context, req wire.CertifyRequest) (*wire.CertifyResponse, error) {
	var out wire.CertifyResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/policy/certify", req, &out)
}

// Certificates lists a task type's certificates, newest first.
func (c *Client) Certificates(ctx context.Context, taskType string) ([]countersign.Certificate, error) {
	var out struct {
		Certificates []countersign.Certificate `json:"certificates"`
	}
	return out.Certificates, c.do(ctx, http.MethodGet, "/v1/policy/certificates?task_type="+url.QueryEscape(taskType), nil, &out)
}

// ApplyCertificate puts a certificate's threshold in force for documents
// started from now on.
func (c *Client) ApplyCertificate(ctx context.Context, req wire.PolicyApplyRequest) (*wire.PolicyResponse, error) {
	var out wire.PolicyResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/policy/apply", req, &out)
}

// SetPolicy changes a task type's threshold, mode or audit rate for
// documents started from now on.
func (c *Client) SetPolicy(ctx context.Context, req wire.PolicySetRequest) (*wire.PolicyResponse, error) {
	var out wire.PolicyResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/policy/set", req, &out)
}

// PolicyVersions lists a task type's policy versions, newest first, and
// the policy new documents start under.
func (c *Client) PolicyVersions(ctx context.Context, taskType string) ([]countersign.PolicyVersion, *countersign.Policy, error) {
	var out struct {
		Versions []countersign.PolicyVersion `json:"versions"`
		Policy   countersign.Policy          `json:"policy"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/policy/versions?task_type="+url.QueryEscape(taskType), nil, &out)
	return out.Versions, &out.Policy, err
}
