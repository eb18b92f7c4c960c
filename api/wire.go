package api

import "github.com/countersign/countersign/api/wire"

// The wire types of REST v1 live in package wire, which the client
// (api/apiclient, countersign-cli) imports without linking this router and
// what it serves from. These aliases keep them api's names as well.
type (
	SubmitRequest      = wire.SubmitRequest
	SubmitResponse     = wire.SubmitResponse
	DocumentView       = wire.DocumentView
	OriginalView       = wire.OriginalView
	ReviewView         = wire.ReviewView
	Reason             = wire.Reason
	ReviewField        = wire.ReviewField
	BatchList          = wire.BatchList
	ReviewList         = wire.ReviewList
	ClaimResponse      = wire.ClaimResponse
	AssignRequest      = wire.AssignRequest
	NextResponse       = wire.NextResponse
	DecisionRequest    = wire.DecisionRequest
	DecisionResponse   = wire.DecisionResponse
	DocumentStatus     = wire.DocumentStatus
	AuditEvents        = wire.AuditEvents
	TokenRequest       = wire.TokenRequest
	TokenResponse      = wire.TokenResponse
	TokenList          = wire.TokenList
	RevokeRequest      = wire.RevokeRequest
	CalibrateRequest   = wire.CalibrateRequest
	SlackUserRequest   = wire.SlackUserRequest
	SlackUserList      = wire.SlackUserList
	EscalateRequest    = wire.EscalateRequest
	EscalateResponse   = wire.EscalateResponse
	IncidentDelivery   = wire.IncidentDelivery
	VetoRequest        = wire.VetoRequest
	ResetRequest       = wire.ResetRequest
	CertifyRequest     = wire.CertifyRequest
	CertifyResponse    = wire.CertifyResponse
	PolicyApplyRequest = wire.PolicyApplyRequest
	PolicySetRequest   = wire.PolicySetRequest
	PolicyResponse     = wire.PolicyResponse
	Stats              = wire.Stats
	SupervisionStats   = wire.SupervisionStats
)
