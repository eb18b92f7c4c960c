package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMEWalkthrough runs the commands of the README's walk-through as
// the README writes them, block by block in a shell, from a folder laid out
// as a clone after make build (bin/countersign, examples) beside a running
// `countersign dev`, and checks that what each block printed holds every
// line of the output the README shows after it (times aside, and "..."
// standing for lines left out). make dev and make build are what the test
// does itself; the API's address is the one dev took, not 8080. The
// walk-through cannot drift from the binary: a renamed flag, a changed
// column or an ID that is no longer the same fails here.
func TestREADMEWalkthrough(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := walkthroughBlocks(t, string(raw))
	if len(blocks) < 5 {
		t.Fatalf("found %d shell blocks in the README's walk-through, want its commands", len(blocks))
	}

	work := t.TempDir()
	if err := os.Mkdir(filepath.Join(work, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary(t), filepath.Join(work, "bin", "countersign")); err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, binary(t), filepath.Join(work, ".countersign"))
	// The banner says where Temporal is and that its web UI is not bundled.
	if banner := dev.output.String(); !strings.Contains(banner, "Temporal UI not bundled: point yours at 127.0.0.1:") {
		t.Errorf("the dev banner does not say where to point a Temporal UI:\n%s", banner)
	}

	ran := 0
	for _, b := range blocks {
		var script []string
		for _, line := range b.commands {
			if strings.HasPrefix(line, "make dev") || strings.HasPrefix(line, "make build") {
				continue
			}
			script = append(script, strings.ReplaceAll(line, "http://127.0.0.1:8080", dev.api.BaseURL))
		}
		if len(script) == 0 {
			continue
		}
		ran++
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.Join(script, "\n"))
		cmd.Dir = work
		// As a new user's shell: no countersign variable points elsewhere.
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "COUNTERSIGN_") })
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README line %d:\n%s\nfailed: %v\n%s", b.line, strings.Join(script, "\n"), err, out)
		}
		got := normalisedLines(string(out))
		for _, want := range b.output {
			if w := normalised(want); w != "" && w != "..." && !slices.Contains(got, w) {
				t.Errorf("README line %d: the output lacks the line the README shows\n  %s\ngot:\n%s", b.line, want, out)
			}
		}
	}
	if ran < 5 {
		t.Fatalf("ran %d blocks of the walk-through, want all of them", ran)
	}
}

// readmeBlock is a shell block of the README and the output block right
// after it, if any.
type readmeBlock struct {
	line     int
	commands []string
	output   []string
}

// walkthroughBlocks reads the shell blocks of the README's "A five-minute
// walk-through" section, a command continued with "\" joined into one line.
func walkthroughBlocks(t *testing.T, readme string) []readmeBlock {
	t.Helper()
	start := strings.Index(readme, "\n## A five-minute walk-through")
	if start < 0 {
		t.Fatal(`the README has no "A five-minute walk-through" section`)
	}
	end := strings.Index(readme[start+1:], "\n## ")
	if end < 0 {
		end = len(readme) - start - 1
	}
	firstLine := strings.Count(readme[:start+1], "\n") + 1
	lines := strings.Split(readme[start+1:start+1+end], "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		lang := strings.TrimPrefix(fence, "```")
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		switch {
		case lang == "sh":
			b := readmeBlock{line: firstLine + i}
			for k := 0; k < len(body); k++ {
				line := body[k]
				for strings.HasSuffix(line, "\\") && k+1 < len(body) {
					k++
					line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(body[k])
				}
				if strings.TrimSpace(line) != "" {
					b.commands = append(b.commands, line)
				}
			}
			blocks = append(blocks, b)
		case lang == "" && len(blocks) > 0 && blocks[len(blocks)-1].output == nil:
			blocks[len(blocks)-1].output = body
		}
		i = j
	}
	return blocks
}

var clockTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}`)

// normalised is a line with its times replaced and its runs of white space
// (a table's padding, a tab) made one space.
func normalised(line string) string {
	return strings.Join(strings.Fields(clockTime.ReplaceAllString(line, "TIME")), " ")
}

func normalisedLines(out string) []string {
	var lines []string
	for line := range strings.SplitSeq(out, "\n") {
		lines = append(lines, normalised(line))
	}
	return lines
}
