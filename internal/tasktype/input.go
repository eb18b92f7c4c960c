package tasktype

import (
	"encoding/json"
	"github.com/countersign/countersign/internal/schema"
	"gopkg.in/yaml.v3"
	"maps"
	"regexp"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/jsonptr"
)

// inputFile is a task type's input as written in YAML.
type inputFile struct {
	Format   string            `yaml:"format"`
	MaxBytes int               `yaml:"max_bytes"`
	ID       string            `yaml:"id"`
	Map      map[string]string `yaml:"map"`
	Schema   yaml.Node         `yaml:"schema"`
}

// metadataKey is what a mapped metadata key may look like: rules read it
// as metadata.rule_name.
var metadataKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

func parseInput(in *inputFile, p *problems) *countersign.InputSpec {
	if in == nil {
		return nil
	}
	out := &countersign.InputSpec{Format: in.Format, MaxBytes: in.MaxBytes, ID: in.ID, Map: in.Map}
	switch in.Format {
	case countersign.InputJSON:
	case countersign.InputText, "":
		out.Format = countersign.InputText
		if in.ID != "" || len(in.Map) > 0 || in.MaxBytes != 0 || in.Schema.Kind != 0 {
			p.add("input", "id, map, max_bytes and schema read JSON documents: set format: json")
		}
		return out
	default:
		p.add("input.format", "unknown format %q (known: %s, %s)", in.Format, countersign.InputText, countersign.InputJSON)
		return out
	}
	if in.MaxBytes < 0 {
		p.add("input.max_bytes", "must not be negative (got %d); 0 means the server's document limit", in.MaxBytes)
	}
	if in.ID != "" {
		if err := jsonptr.Check(in.ID); err != nil {
			p.add("input.id", "%v", err)
		}
	}
	if in.Schema.Kind != 0 {
		out.Schema = inputSchema(&in.Schema, p)
	}
	for _, key := range slices.Sorted(maps.Keys(in.Map)) {
		if !metadataKey.MatchString(key) {
			p.add("input.map", "key %q must be lowercase letters, digits and underscores, starting with a letter", key)
		}
		if err := jsonptr.Check(in.Map[key]); err != nil {
			p.add("input.map."+key, "%v", err)
		}
	}
	return out
}

// inputSchema is the JSON Schema every document of the task type must fit
// (an OCSF class's required attributes, say), checked to compile.
func inputSchema(node *yaml.Node, p *problems) json.RawMessage {
	var doc map[string]any
	if err := node.Decode(&doc); err != nil {
		p.add("input.schema", "must be a JSON Schema object: %v", err)
		return nil
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		p.add("input.schema", "cannot be written as JSON: %v", err)
		return nil
	}
	if _, err := schema.Compile(raw); err != nil {
		p.add("input.schema", "%v", err)
		return nil
	}
	return raw
}
