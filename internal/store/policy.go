package store

import (
	"encoding/json"

	"github.com/countersign/countersign"
)

// NumberCertificate gives c the n-th number of its task type and its times
// as both stores keep them, and returns it as JSON for the certificate
// column.
func NumberCertificate(c *countersign.Certificate, n int) (string, error) {
	c.Number, c.ID = n, countersign.CertificateID(c.TaskType, n)
	c.Since, c.Until, c.CreatedAt = Time(c.Since), Time(c.Until), Time(c.CreatedAt)
	b, err := json.Marshal(c)
	return string(b), err
}

// NumberPolicyVersion gives v the n-th number of its task type and its time
// as both stores keep it, and returns it as JSON for the version column.
func NumberPolicyVersion(v *countersign.PolicyVersion, n int) (string, error) {
	v.Number, v.ID = n, countersign.PolicyVersionID(v.TaskType, n)
	v.CreatedAt = Time(v.CreatedAt)
	b, err := json.Marshal(v)
	return string(b), err
}

// PolicyMoved is the conflict of putting v when the version in force is no
// longer the one v was made from.
func PolicyMoved(v *countersign.PolicyVersion, inForce string) error {
	if inForce == "" {
		inForce = "none"
	}
	previous := v.Previous
	if previous == "" {
		previous = "none"
	}
	return countersign.Errorf(countersign.CodeConflict,
		"the policy of %s changed meanwhile: version %s is in force, not %s; look at it and try again", v.TaskType, inForce, previous)
}
