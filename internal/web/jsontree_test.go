package web

import (
	"strconv"
	"strings"
	"testing"
)

func TestJSONTreeBounds(t *testing.T) {
	// Deeper than the tree goes: the last object shows as "(… 1 more)".
	deep := strings.Repeat(`{"a":`, treeMaxDepth+2) + "1" + strings.Repeat("}", treeMaxDepth+2)
	n := jsonTree(deep)
	for range treeMaxDepth {
		if len(n.Nodes) != 1 {
			t.Fatalf("node %s has %d children", n.Pointer, len(n.Nodes))
		}
		n = n.Nodes[0]
	}
	if len(n.Nodes) != 0 || n.More != 1 || n.Pointer != strings.Repeat("/a", treeMaxDepth) {
		t.Errorf("at the depth limit: %s with %d nodes, %d more", n.Pointer, len(n.Nodes), n.More)
	}

	// Larger than the budget: the rest is counted, not shown.
	items := make([]string, treeMaxNodes+50)
	for i := range items {
		items[i] = strconv.Itoa(i)
	}
	wide := jsonTree(`{"k~/x": [` + strings.Join(items, ",") + `]}`)
	list := wide.Nodes[0]
	if list.Pointer != "/k~0~1x" || len(list.Nodes)+2 != treeMaxNodes || list.More != 52 {
		t.Errorf("wide list %s: %d shown, %d more", list.Pointer, len(list.Nodes), list.More)
	}
	if !wide.mark("/k~0~1x/3", 0, "label") || list.Nodes[3].Label() != "label" || !list.Open {
		t.Errorf("node /k~0~1x/3 not marked, or its list not opened")
	}
	if wide.mark("/k~0~1x/440", 1, "severity") || wide.mark("/nothing", 1, "severity") {
		t.Errorf("a node the tree does not show was marked")
	}
	if jsonTree(`{"a": 1} trailing`) != nil || jsonTree("plain text") != nil {
		t.Errorf("a tree of what is not one JSON value")
	}
}
