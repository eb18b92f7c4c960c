package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder's links to files are submitted as the files are; a link to a
// folder is not followed.
func TestCollectFollowsLinksToFiles(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "a.txt"), []byte("linked"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.txt"), []byte("plain"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "a.txt"), filepath.Join(dir, "a.txt")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	docs, err := collect([]string{dir}, strings.NewReader(""), false)
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, d := range docs {
		sources = append(sources, filepath.Base(d.source))
	}
	if strings.Join(sources, ",") != "a.txt,b.txt" {
		t.Errorf("collected %v, want the linked a.txt and b.txt", sources)
	}
}
