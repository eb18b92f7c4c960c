// Package expr compiles and evaluates the CEL expressions of task types: the
// constraints on field values and the policy's risk and reject rules. Every
// expression sees the same three variables:
//
//	fields      map(string, dyn)     the draft's values by field name
//	metadata    map(string, string)  the document's metadata
//	confidence  double               the document confidence (0 in constraints)
//
// and must yield a bool. Numbers compare across int and double, so
// `fields.amount > 1000000` works on a JSON number. Evaluation is bounded in
// cost, so a task type cannot stall a worker.
package expr

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/countersign/countersign"
)

// costLimit bounds the work of one evaluation; the expressions of a task type
// are small, so hitting it means an expression iterates over something large.
const costLimit = 1_000_000

// Vars are what an expression is evaluated on.
type Vars struct {
	Fields     countersign.Fields
	Metadata   map[string]string
	Confidence float64
}

// Program is a compiled expression.
type Program struct {
	source  string
	program cel.Program
}

var (
	envOnce sync.Once
	env     *cel.Env
	envErr  error

	compiled sync.Map // source -> *Program
)

func environment() (*cel.Env, error) {
	envOnce.Do(func() {
		env, envErr = cel.NewEnv(
			cel.Variable("fields", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("metadata", cel.MapType(cel.StringType, cel.StringType)),
			cel.Variable("confidence", cel.DoubleType),
			cel.CrossTypeNumericComparisons(true),
		)
	})
	return env, envErr
}

// Compile parses and type-checks an expression, which must yield a bool.
// Compiled programs are kept, so compiling the same source again is cheap.
func Compile(source string) (*Program, error) {
	if p, ok := compiled.Load(source); ok {
		return p.(*Program), nil
	}
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("expression is empty")
	}
	e, err := environment()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	ast, issues := e.Compile(source)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("%s", oneLine(issues.Err().Error()))
	}
	if out := ast.OutputType(); !out.IsExactType(types.BoolType) && !out.IsExactType(types.DynType) {
		return nil, fmt.Errorf("yields %s, not bool", out)
	}
	prg, err := e.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, err
	}
	p := &Program{source: source, program: prg}
	actual, _ := compiled.LoadOrStore(source, p)
	return actual.(*Program), nil
}

// ErrMissingKey is the error of an expression that reads a field or metadata
// key the document does not have.
var ErrMissingKey = errors.New("no such key")

// Eval evaluates the expression. A missing field or key (ErrMissingKey), a
// type mismatch or a result that is not a bool is an error.
func (p *Program) Eval(v Vars) (bool, error) {
	fields := map[string]any(v.Fields)
	if fields == nil {
		fields = map[string]any{}
	}
	metadata := v.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	out, _, err := p.program.Eval(map[string]any{
		"fields":     fields,
		"metadata":   metadata,
		"confidence": v.Confidence,
	})
	if err != nil {
		msg := oneLine(err.Error())
		if strings.HasPrefix(msg, ErrMissingKey.Error()) {
			return false, fmt.Errorf("%w%s", ErrMissingKey, strings.TrimPrefix(msg, ErrMissingKey.Error()))
		}
		return false, errors.New(msg)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("yields %v (%s), not a bool", out.Value(), out.Type().TypeName())
	}
	return b, nil
}

// String returns the source.
func (p *Program) String() string { return p.source }

// oneLine folds CEL's multi-line error messages (which draw a caret under
// the fault) onto one line for logs and task type errors.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	kept := lines[:0]
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.Trim(trimmed, "|.^ ") == "" || strings.HasPrefix(trimmed, "|") {
			continue
		}
		kept = append(kept, trimmed)
	}
	return strings.Join(kept, "; ")
}
