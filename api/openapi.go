package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/simulate"
)

// openapiPaths is the hand-written part of the OpenAPI description: the
// operations, their parameters, and the status of each answer, naming
// their bodies' schemas. The schemas themselves are written from the Go
// wire types (wireSchemas), so they cannot drift from what the server
// sends.
//
//go:embed openapi.yaml
var openapiPaths []byte

// wireTypes are the types whose schemas components.schemas holds, by the
// name the paths refer to them with.
var wireTypes = map[string]any{
	"Error":            rest.ErrorBody{},
	"SubmitRequest":    SubmitRequest{},
	"SubmitResponse":   SubmitResponse{},
	"DocumentView":     DocumentView{},
	"ReviewList":       ReviewList{},
	"BatchList":        BatchList{},
	"BatchProgress":    countersign.BatchProgress{},
	"ReviewView":       ReviewView{},
	"ClaimResponse":    ClaimResponse{},
	"AssignRequest":    AssignRequest{},
	"NextResponse":     NextResponse{},
	"DecisionRequest":  DecisionRequest{},
	"DecisionResponse": DecisionResponse{},
	"AuditEvents":      AuditEvents{},
	"ChainReport":      countersign.ChainReport{},
	"TokenRequest":     TokenRequest{},
	"TokenResponse":    TokenResponse{},
	"TokenList":        TokenList{},
	"Token":            countersign.Token{},
	"RevokeRequest":    RevokeRequest{},
	"CalibrateRequest": CalibrateRequest{},
	"Calibration":      countersign.Calibration{},
	"SimulationResult": simulate.Result{},
	"ResetRequest":     ResetRequest{},
	"OverrideResponse": struct {
		Override *countersign.PolicyOverride `json:"override"`
	}{},
	"CertifyRequest":  CertifyRequest{},
	"CertifyResponse": CertifyResponse{},
	"CertifyRefusal":  CertifyRefusal{},
	"CertificateList": struct {
		Certificates []countersign.Certificate `json:"certificates"`
	}{},
	"PolicyApplyRequest": PolicyApplyRequest{},
	"PolicySetRequest":   PolicySetRequest{},
	"PolicyResponse":     PolicyResponse{},
	"PolicyVersionList": struct {
		Versions []countersign.PolicyVersion `json:"versions"`
		Policy   countersign.Policy          `json:"policy"`
	}{},
	"VetoRequest":      VetoRequest{},
	"EscalateRequest":  EscalateRequest{},
	"EscalateResponse": EscalateResponse{},
	"Stats":            Stats{},
	"Reviewers":        report.Reviewers{},
	"SlackUserRequest": SlackUserRequest{},
	"SlackUser":        countersign.SlackUser{},
	"SlackUserList":    SlackUserList{},
	"Status": struct {
		Status string `json:"status"`
	}{},
	"CertifyTest": certify.Result{},
}

// authenticated are the answers every operation that takes a token may
// give, whatever it does; openapiDocument adds them.
var authenticated = map[string]string{
	"401": "no token, or one that is unknown, revoked or expired",
	"403": "the token's role may not call this route (the message names the roles that may)",
	"429": "the token made more requests than --rate-limit allows; Retry-After says when to try again",
	"500": "a failure of the server; its log has the details",
	"503": "a dependency (the store, Temporal) is down; try again later",
}

var (
	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error
)

// OpenAPI is the OpenAPI 3.1 description of the API, as JSON.
func OpenAPI() ([]byte, error) {
	openapiOnce.Do(func() {
		doc, err := openapiDocument()
		if err == nil {
			openapiJSON, err = json.MarshalIndent(doc, "", "  ")
		}
		openapiErr = err
	})
	return openapiJSON, openapiErr
}

func (h *handlers) openapi(w http.ResponseWriter, r *http.Request) {
	doc, err := OpenAPI()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// openapiDocument joins the paths with the schemas of the wire types and
// adds the answers every authenticated operation may give.
func openapiDocument() (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openapiPaths, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	g := schemaWriter{defs: map[string]any{}, names: map[reflect.Type]string{}}
	for name, v := range wireTypes {
		g.names[reflect.TypeOf(v)] = name
	}
	for _, name := range slices.Sorted(maps.Keys(wireTypes)) {
		g.define(reflect.TypeOf(wireTypes[name]))
	}
	components, _ := doc["components"].(map[string]any)
	if components == nil {
		components = map[string]any{}
		doc["components"] = components
	}
	components["schemas"] = g.defs
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, _ := op.(map[string]any)
			if o == nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s is not an operation", method, path)
			}
			if sec, ok := o["security"].([]any); ok && len(sec) == 0 {
				continue // public
			}
			responses, _ := o["responses"].(map[string]any)
			for status, why := range authenticated {
				if _, ok := responses[status]; !ok {
					responses[status] = map[string]any{"description": why, "content": jsonContent("Error")}
				}
			}
		}
	}
	return doc, nil
}

func jsonContent(schema string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}
}

// schemaWriter writes JSON Schemas (2020-12, as OpenAPI 3.1 takes them)
// of Go types as encoding/json writes their values: a field is required
// unless its tag says omitempty or omitzero; a nil pointer, slice or map is null; a
// struct embedded without a tag lends its fields. Named structs become
// components, by the name wireTypes gives them or their Go name.
type schemaWriter struct {
	defs  map[string]any
	names map[reflect.Type]string
}

// owner is the type a component name was given to.
func (g *schemaWriter) owner(name string) (reflect.Type, bool) {
	for t, n := range g.names {
		if n == name {
			return t, true
		}
	}
	return nil, false
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

func (g *schemaWriter) name(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	if other, taken := g.owner(n); taken && other != t {
		pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
		n = strings.ToUpper(pkg[:1]) + pkg[1:] + n
	}
	g.names[t] = n
	return n
}

// define writes t's schema into the components, once, and returns a
// reference to it.
func (g *schemaWriter) define(t reflect.Type) map[string]any {
	name := g.name(t)
	ref := map[string]any{"$ref": "#/components/schemas/" + name}
	if _, done := g.defs[name]; done {
		return ref
	}
	g.defs[name] = map[string]any{} // a placeholder against recursion
	g.defs[name] = g.object(t)
	return ref
}

func (g *schemaWriter) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}

func (g *schemaWriter) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			inner := f.Type
			if inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				g.fields(inner, props, required)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

// schema is the schema of a value of t.
func (g *schemaWriter) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.define(t)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": []any{"string", "null"}}
		}
		return map[string]any{"type": []any{"array", "null"}, "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": []any{"object", "null"}, "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{} // an interface: any value
}

// nullable is s, or null.
func nullable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}
