// Command sqlcsum records what sqlc read and wrote for the stores, so that a
// test can tell generated code out of date without running sqlc, which
// takes minutes to build (it parses SQL with Postgres's own parser, in C).
//
// `make generate` runs sqlc, then this, which writes internal/store/sqlc.sum:
// the SHA-256 of sqlc.yaml, of every migration and query file sqlc read and
// of every file it wrote. TestGeneratedCodeIsCurrent computes the same sums
// and fails, naming the files, when a query, a migration or the
// configuration changed without the code being generated again, or when
// generated code was edited by hand.
package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SumFile is the record, in the store folder.
const SumFile = "sqlc.sum"

// sources are what sqlc reads and writes, relative to the store folder.
var sources = []string{
	"sqlc.yaml",
	"postgres/migrations/*.sql",
	"postgres/dbsqlc/*.sql",
	"postgres/dbsqlc/*.go",
	"sqlite/migrations/*.sql",
	"sqlite/dbsqlc/*.sql",
	"sqlite/dbsqlc/*.go",
}

func main() {
	dir := flag.String("dir", "internal/store", "the store folder, where sqlc.yaml is")
	flag.Parse()
	sums, err := Sums(os.DirFS(*dir))
	if err != nil {
		log.Fatalf("sqlcsum: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*dir, SumFile), sums, 0o644); err != nil {
		log.Fatalf("sqlcsum: %v", err)
	}
}

// Sums returns the record of the sources in the store folder fsys: a header,
// then a line per file, "sha256  path", in path order.
func Sums(fsys fs.FS) ([]byte, error) {
	var paths []string
	for _, pattern := range sources {
		matches, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no file matches %s", pattern)
		}
		paths = append(paths, matches...)
	}
	slices.Sort(paths)
	var b bytes.Buffer
	b.WriteString("# Written by `make generate` (internal/store/sqlcsum): the SHA-256 of what sqlc\n" +
		"# read and wrote. TestGeneratedCodeIsCurrent checks it; do not edit.\n")
	for _, path := range paths {
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), path)
	}
	return b.Bytes(), nil
}

// Differences lists the files whose sums differ between two records, and
// those only one has.
func Differences(recorded, current []byte) []string {
	parse := func(record []byte) map[string]string {
		sums := map[string]string{}
		for line := range strings.Lines(string(record)) {
			if sum, path, ok := strings.Cut(strings.TrimSpace(line), "  "); ok && !strings.HasPrefix(line, "#") {
				sums[path] = sum
			}
		}
		return sums
	}
	was, is := parse(recorded), parse(current)
	var out []string
	for path, sum := range is {
		switch old, ok := was[path]; {
		case !ok:
			out = append(out, path+" (new)")
		case old != sum:
			out = append(out, path+" (changed)")
		}
	}
	for path := range was {
		if _, ok := is[path]; !ok {
			out = append(out, path+" (gone)")
		}
	}
	slices.Sort(out)
	return out
}
