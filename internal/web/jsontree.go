package web

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Bounds of the alert tree: an alert is read, not browsed, so a deeper or
// larger one shows a "(… more)" marker where the tree stops, and its text
// view below still holds all of it.
const (
	treeMaxDepth = 8
	treeMaxNodes = 400
	// treeOpenDepth is how deep the tree starts open; deeper objects open
	// when they hold a field's evidence.
	treeOpenDepth = 2
)

// jsonNode is one value of a JSON document as the review page shows it:
// a key (or array index) and a scalar, or an object or array of nodes.
type jsonNode struct {
	Key     string
	HasKey  bool
	Pointer string
	// Kind is object, array, string, number, boolean or null.
	Kind  string
	Value string
	Nodes []*jsonNode
	// More counts what the tree leaves out of this object or array: the
	// members past the node budget, or all of them past the depth limit.
	More int
	// Fields are the indexes of the fields whose evidence points here,
	// Names their names; Open whether the object or array starts open.
	Fields []int
	Names  []string
	Open   bool
}

// Container reports whether the node is an object or an array.
func (n *jsonNode) Container() bool { return n.Kind == "object" || n.Kind == "array" }

// Marked reports whether any field's evidence points at the node.
func (n *jsonNode) Marked() bool { return len(n.Fields) > 0 }

// FieldList is the fields as a mark's data-f attribute holds them.
func (n *jsonNode) FieldList() string { return segment{Fields: n.Fields}.FieldList() }

// Label names the fields whose evidence points at the node.
func (n *jsonNode) Label() string { return strings.Join(n.Names, ", ") }

// Summary is how a closed object or array reads: its size.
func (n *jsonNode) Summary() string {
	count := len(n.Nodes) + n.More
	unit := "items"
	if n.Kind == "object" {
		unit = "keys"
	}
	if count == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	open, end := "[", "]"
	if n.Kind == "object" {
		open, end = "{", "}"
	}
	return open + strconv.Itoa(count) + " " + unit + end
}

// jsonTree reads content as one JSON value, keeping the order of its keys,
// and lays it out as a tree within the bounds above; nil when content is
// not JSON.
func jsonTree(content string) *jsonNode {
	dec := json.NewDecoder(strings.NewReader(content))
	dec.UseNumber()
	b := &treeBuilder{dec: dec}
	root, err := b.value("", false, "", 0)
	if err != nil {
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil
	}
	return root
}

type treeBuilder struct {
	dec   *json.Decoder
	nodes int
}

func (b *treeBuilder) value(key string, hasKey bool, pointer string, depth int) (*jsonNode, error) {
	tok, err := b.dec.Token()
	if err != nil {
		return nil, err
	}
	b.nodes++
	n := &jsonNode{Key: key, HasKey: hasKey, Pointer: pointer, Open: depth < treeOpenDepth}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			n.Kind = "object"
		} else {
			n.Kind = "array"
		}
		err = b.members(n, depth)
	case string:
		n.Kind, n.Value = "string", t
	case json.Number:
		n.Kind, n.Value = "number", t.String()
	case bool:
		n.Kind, n.Value = "boolean", strconv.FormatBool(t)
	default:
		n.Kind, n.Value = "null", "null"
	}
	return n, err
}

// members reads an object's or an array's members up to its closing
// delimiter; past the depth limit or the node budget it skips them and
// counts them in More.
func (b *treeBuilder) members(n *jsonNode, depth int) error {
	for i := 0; b.dec.More(); i++ {
		key, hasKey := strconv.Itoa(i), false
		if n.Kind == "object" {
			tok, err := b.dec.Token()
			if err != nil {
				return err
			}
			key, hasKey = tok.(string), true
		}
		if depth+1 > treeMaxDepth || b.nodes >= treeMaxNodes {
			var skip json.RawMessage
			if err := b.dec.Decode(&skip); err != nil {
				return err
			}
			n.More++
			continue
		}
		child, err := b.value(key, hasKey, n.Pointer+"/"+escapePointer(key), depth+1)
		if err != nil {
			return err
		}
		n.Nodes = append(n.Nodes, child)
	}
	_, err := b.dec.Token()
	return err
}

func escapePointer(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// mark labels the node pointer names with the field, and opens the
// objects and arrays on the way to it; false when the tree does not show
// that node (it is not in the document, or past the tree's bounds).
func (n *jsonNode) mark(pointer string, index int, name string) bool {
	if n.Pointer == pointer {
		n.Fields = append(n.Fields, index)
		n.Names = append(n.Names, name)
		return true
	}
	if !strings.HasPrefix(pointer, n.Pointer+"/") {
		return false
	}
	for _, c := range n.Nodes {
		if c.mark(pointer, index, name) {
			n.Open = true
			return true
		}
	}
	return false
}
