package jsonptr_test

import (
	"testing"

	"github.com/countersign/countersign/internal/jsonptr"
)

func TestResolve(t *testing.T) {
	doc, err := jsonptr.Decode([]byte(`{"finding_info": {"uid": "f-1", "analytic": {"name": "Brute force"}},
		"src_endpoint": {"ip": "203.0.113.7"}, "severity_id": 4, "big": 12345678901234567890,
		"a/b": {"m~n": true}, "observables": [{"value": "x"}, {"value": "y"}], "none": null}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pointer, want string
		found         bool
	}{
		{"/finding_info/uid", "f-1", true},
		{"/finding_info/analytic/name", "Brute force", true},
		{"/severity_id", "4", true},
		{"/big", "12345678901234567890", true},
		{"/a~1b/m~0n", "true", true},
		{"/observables/1/value", "y", true},
		{"/observables/2/value", "", false},
		{"/observables/01/value", "", false},
		{"/observables/-/value", "", false},
		{"/none", "null", true},
		{"/src_endpoint/port", "", false},
		{"/severity_id/x", "", false},
		{"src_endpoint/ip", "", false},
	} {
		v, found := jsonptr.Resolve(doc, c.pointer)
		if found != c.found || (found && jsonptr.Text(v) != c.want) {
			t.Errorf("%s: %v %v, want %q %v", c.pointer, jsonptr.Text(v), found, c.want, c.found)
		}
	}
	for _, bad := range []string{"", "x", "/a~2", "/a~"} {
		if jsonptr.Check(bad) == nil {
			t.Errorf("%q passed the check", bad)
		}
	}
	if _, err := jsonptr.Decode([]byte(`{} {}`)); err == nil {
		t.Error("two values decoded as one")
	}
}
