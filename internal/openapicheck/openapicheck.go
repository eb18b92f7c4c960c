// Package openapicheck holds the answers of a handler to the OpenAPI
// description of countersign's API (api.OpenAPI), for tests: every answer
// to a documented operation must have a documented status, and a JSON body
// must validate against the schema written for it.
package openapicheck

import (
	"bytes"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/countersign/countersign/api"
)

// Spec is the description, compiled.
type Spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	ops      []operation
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
	// Checked counts the answers held to the description.
	Checked atomic.Int64
}

type operation struct {
	method, path string
	pattern      *regexp.Regexp
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load reads and compiles api.OpenAPI once.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Spec, error) {
	raw, err := api.OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", doc); err != nil {
		return nil, err
	}
	s := &Spec{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}}
	paths, _ := s.doc["paths"].(map[string]any)
	for path, item := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$"
		for method := range item.(map[string]any) {
			s.ops = append(s.ops, operation{method: strings.ToUpper(method), path: path, pattern: regexp.MustCompile(re)})
		}
	}
	// The literal paths before the templated ones that would also match.
	slices.SortFunc(s.ops, func(a, b operation) int { return strings.Count(a.path, "{") - strings.Count(b.path, "{") })
	return s, nil
}

// Operations are the documented operations, as "METHOD /path".
func (s *Spec) Operations() []string {
	var out []string
	for _, op := range s.ops {
		out = append(out, op.method+" "+op.path)
	}
	slices.Sort(out)
	return out
}

// pointer escapes a key for a JSON pointer.
func pointer(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

// Check holds one answer to the description: it returns nil for a request
// no operation documents (the web page, the fallback 404).
func (s *Spec) Check(method, path string, status int, contentType string, body []byte) error {
	var op *operation
	for i := range s.ops {
		if s.ops[i].method == method && s.ops[i].pattern.MatchString(path) {
			op = &s.ops[i]
			break
		}
	}
	if op == nil {
		return nil
	}
	s.Checked.Add(1)
	where := method + " " + op.path
	responses, _ := s.doc["paths"].(map[string]any)[op.path].(map[string]any)[strings.ToLower(method)].(map[string]any)["responses"].(map[string]any)
	key := strconv.Itoa(status)
	response, ok := responses[key].(map[string]any)
	if !ok {
		return fmt.Errorf("%s answered %d, which the description does not list (it lists %v): %s", where, status, slices.Sorted(maps.Keys(responses)), clip(body))
	}
	at := "#/paths/" + pointer(op.path) + "/" + strings.ToLower(method) + "/responses/" + key
	if ref, ok := response["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		response, _ = s.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		at = ref
	}
	content, _ := response["content"].(map[string]any)
	if len(content) == 0 {
		return nil
	}
	media, _, _ := mime.ParseMediaType(contentType)
	if _, ok := content[media]; !ok {
		return fmt.Errorf("%s answered %d as %q, which the description does not list (it lists %v)", where, status, media, slices.Sorted(maps.Keys(content)))
	}
	if media != "application/json" {
		return nil
	}
	schema, err := s.schema("openapi.json" + at + "/content/application~1json/schema")
	if err != nil {
		return fmt.Errorf("%s %d: the description's schema: %w", where, status, err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s answered %d with a body that is not JSON: %v: %s", where, status, err, clip(body))
	}
	if err := schema.Validate(value); err != nil {
		return fmt.Errorf("%s answered %d with a body its schema refuses: %v\nbody: %s", where, status, err, clip(body))
	}
	return nil
}

// CompileAll compiles the schema of every JSON request body and answer
// the description lists, so that a reference to no schema is found
// whether or not a test meets that answer, and validates the request
// examples against their schemas.
func (s *Spec) CompileAll() error {
	var errs []string
	paths, _ := s.doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			at := "#/paths/" + pointer(path) + "/" + method
			o := op.(map[string]any)
			if body, ok := o["requestBody"].(map[string]any); ok {
				if media, ok := body["content"].(map[string]any)["application/json"].(map[string]any); ok {
					schema, err := s.schema("openapi.json" + at + "/requestBody/content/application~1json/schema")
					if err != nil {
						errs = append(errs, fmt.Sprintf("%s %s request: %v", method, path, err))
					}
					examples, _ := media["examples"].(map[string]any)
					for name, ex := range examples {
						if schema == nil {
							break
						}
						if err := schema.Validate(ex.(map[string]any)["value"]); err != nil {
							errs = append(errs, fmt.Sprintf("%s %s request example %q: %v", method, path, name, err))
						}
					}
				}
			}
			for status, response := range o["responses"].(map[string]any) {
				r := response.(map[string]any)
				loc := at + "/responses/" + status
				if ref, ok := r["$ref"].(string); ok {
					loc = ref
					name := strings.TrimPrefix(ref, "#/components/responses/")
					r, _ = s.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
				}
				if content, ok := r["content"].(map[string]any); ok {
					if _, ok := content["application/json"]; ok {
						if _, err := s.schema("openapi.json" + loc + "/content/application~1json/schema"); err != nil {
							errs = append(errs, fmt.Sprintf("%s %s %s: %v", method, path, status, err))
						}
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (s *Spec) schema(loc string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[loc]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(loc)
	if err != nil {
		return nil, err
	}
	s.schemas[loc] = sch
	return sch, nil
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// Wrap returns next, with every answer it gives held to the description;
// what does not hold fails t.
func Wrap(t testing.TB, next http.Handler) http.Handler {
	s, err := Load()
	if err != nil {
		t.Fatalf("the OpenAPI description: %v", err)
	}
	return s.Handler(next, func(err error) { t.Errorf("OpenAPI: %v", err) })
}

// Handler returns next, with every answer it gives held to the
// description; report is told what does not hold.
func (s *Spec) Handler(next http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if err := s.Check(r.Method, r.URL.Path, rec.status, rec.Header().Get("Content-Type"), rec.body.Bytes()); err != nil {
			report(err)
		}
	})
}

// recorder passes an answer through and keeps its status and the first
// megabyte of its body.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	if r.body.Len() < 1<<20 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets a streamed answer (an export) through as it comes.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
