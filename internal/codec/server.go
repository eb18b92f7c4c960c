package codec

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/rest"
)

// DefaultMaxBodyBytes bounds a codec server request unless configured
// otherwise: a page of history's payloads.
const DefaultMaxBodyBytes = 16 << 20

// Who may use the codec server. Decoding shows what payloads hold (drafts,
// corrections, evidence quotes): the roles that may read every decision and
// the audit trail. Encoding makes payloads that workers would accept as
// countersign's own (the web UI encodes the input of a signal or a start it
// sends), so only admins may.
var (
	Decoders = []countersign.Role{countersign.RoleApprover, countersign.RoleAuditor, countersign.RoleAdmin}
	Encoders = []countersign.Role{countersign.RoleAdmin}
)

// Server is the codec server: Temporal's remote codec protocol (POST
// /encode and /decode with {"payloads": [...]}) over a codec, for callers
// presenting a countersign API token.
type Server struct {
	Codec converter.PayloadCodec
	// Tokens authenticate callers.
	Tokens countersign.TokenStore
	// Origins are the web origins (scheme://host[:port]) of the Temporal web
	// UIs allowed to call from a browser; CORS answers no other.
	Origins []string
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *slog.Logger
	Now          func() time.Time
}

// Handler returns the codec server's HTTP handler.
func Handler(s Server) http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	codec := converter.NewPayloadCodecHTTPHandler(s.Codec)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("POST /decode", s.allow(Decoders, codec))
	mux.Handle("POST /encode", s.allow(Encoders, codec))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteError(w, countersign.Errorf(countersign.CodeNotFound, "no such endpoint: %s %s (the codec server answers POST /decode and POST /encode)", r.Method, r.URL.Path))
	})
	return s.cors(mux)
}

// cors lets the configured Temporal web UI origins call from a browser,
// with the Authorization header, and answers their preflight requests.
func (s Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(s.Origins, origin)
		if origin != "" {
			w.Header().Add("Vary", "Origin")
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			rest.WriteError(w, countersign.Errorf(countersign.CodeForbidden, "origin %q may not call the codec server; start it with --ui-origin %s", origin, origin))
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		w.Header().Set("Access-Control-Max-Age", strconv.Itoa(int((10 * time.Minute).Seconds())))
		w.WriteHeader(http.StatusNoContent)
	})
}

// allow authenticates the bearer token and lets the request through if the
// caller's role is among roles; every call that gets through is logged with
// its caller.
func (s Server) allow(roles []countersign.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := rest.Bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="countersign"`)
			rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "missing bearer token: send Authorization: Bearer <countersign API token>"))
			return
		}
		p, err := auth.Authenticate(r.Context(), s.Tokens, secret, s.Now())
		if err != nil {
			if countersign.ErrorCode(err) == countersign.CodeInternal {
				s.Logger.ErrorContext(r.Context(), "codec server: authenticate", "error", err)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="countersign", error="invalid_token"`)
			rest.WriteError(w, err)
			return
		}
		if !slices.Contains(roles, p.Role) {
			rest.WriteError(w, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not %s payloads: %s only", p.User, p.Role, strings.TrimPrefix(r.URL.Path, "/"), countersign.RoleList(roles)))
			return
		}
		if r.ContentLength > s.MaxBodyBytes {
			rest.WriteError(w, countersign.Errorf(countersign.CodeTooLarge, "request body of %d bytes is over the limit of %d", r.ContentLength, s.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
		rec := rest.NewStatusRecorder(w)
		next.ServeHTTP(rec, r)
		s.Logger.InfoContext(r.Context(), "codec server", "op", strings.TrimPrefix(r.URL.Path, "/"), "user", p.User, "role", p.Role,
			"namespace", r.Header.Get("X-Namespace"), "status", rec.Status)
	})
}
