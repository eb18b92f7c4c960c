// Package docs holds countersign's design and reference pages. Its test keeps
// the package map of architecture.md in step with the module's packages.
package docs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// modulePath is the import path of the module whose packages the map lists.
const modulePath = "github.com/countersign/countersign"

// TestPackageMapMatchesGoList fails naming every package `go list ./...`
// lists that architecture.md's package map leaves out, and every package the
// map names that no longer exists. Nested modules (deploy/helm/chartcheck)
// are not part of ./... and so not of the map.
func TestPackageMapMatchesGoList(t *testing.T) {
	mapped, err := packageMap("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := goList(t)

	for _, p := range listed {
		if !slices.Contains(mapped, p) {
			t.Errorf("package %s is in `go list ./...` but not in the package map of docs/architecture.md: add it", p)
		}
	}
	seen := map[string]bool{}
	for _, p := range mapped {
		if seen[p] {
			t.Errorf("the package map of docs/architecture.md names %s twice", p)
		}
		seen[p] = true
		if !slices.Contains(listed, p) {
			t.Errorf("the package map of docs/architecture.md names %s, which `go list ./...` does not list: remove or rename it", p)
		}
	}
}

// packageMap reads the import paths the first ```text block under the
// "## Package map" heading names: the first word of each line that does not
// start with white space, a path from the module root ("." is the root).
func packageMap(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		pkgs              []string
		inSection, inMap  bool
		sawMap, closedMap bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() && !closedMap {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Package map"
		case inSection && !sawMap && line == "```text":
			inMap, sawMap = true, true
		case inMap && line == "```":
			inMap, closedMap = false, true
		case inMap && line != "" && line[0] != ' ':
			p := strings.Fields(line)[0]
			if p == "." {
				pkgs = append(pkgs, modulePath)
			} else {
				pkgs = append(pkgs, modulePath+"/"+p)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !closedMap {
		return nil, fmt.Errorf("%s has no ```text block under the heading \"## Package map\"", path)
	}
	return pkgs, nil
}

// goList lists the module's packages from its root, with the go command
// that built this test when there is one, else the one on PATH.
func goList(t *testing.T) []string {
	t.Helper()
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command to list the packages with: %v", err)
		}
	}
	cmd := exec.Command(goCmd, "list", "-f", "{{.ImportPath}}", "./...")
	cmd.Dir = ".."
	cmd.Stderr = new(strings.Builder)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, cmd.Stderr)
	}
	return strings.Fields(string(out))
}
