package wire

// EscalateRequest is the body of POST /v1/documents/{id}/escalate.
type EscalateRequest struct {
	Reason   string `json:"reason"`
	Severity int    `json:"severity,omitempty"`
}

// EscalateResponse answers POST /v1/documents/{id}/escalate: the audit
// event that records the escalation and how the incident target took it.
type EscalateResponse struct {
	DocumentID string           `json:"document_id"`
	EventID    string           `json:"event_id"`
	Incident   IncidentDelivery `json:"incident"`
}

// IncidentDelivery is how the incident.escalated webhook went.
type IncidentDelivery struct {
	// Configured is false when no webhook is configured: the escalation
	// is recorded, and nothing is sent.
	Configured bool   `json:"configured"`
	Delivered  bool   `json:"delivered"`
	Status     int    `json:"status,omitempty"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message"`
}
