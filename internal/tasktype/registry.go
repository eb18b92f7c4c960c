package tasktype

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/countersign/countersign"
)

// Registry holds the task types a process serves, by name.
type Registry struct {
	byName    map[string]*countersign.TaskType
	byVersion map[string]*countersign.TaskType
}

// LoadDir loads every .yaml or .yml file in dir and in its immediate
// subdirectories (examples/contract-review/tasktype.yaml, say).
func LoadDir(dir string) (*Registry, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("task types: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("task types: %s is not a directory", dir)
	}
	return load(os.DirFS(dir), dir)
}

// LoadFS is LoadDir over a file system, such as the embedded examples.
func LoadFS(fsys fs.FS, origin string) (*Registry, error) {
	return load(fsys, origin)
}

func load(fsys fs.FS, origin string) (*Registry, error) {
	r := &Registry{byName: map[string]*countersign.TaskType{}, byVersion: map[string]*countersign.TaskType{}}
	var errs []error
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.Count(p, "/") >= 1 {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		source, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		where := path.Join(origin, p)
		tt, err := Parse(source, where)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if other, dup := r.byName[tt.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name: %q is already declared by another file (version %s)", where, tt.Name, other.Version))
			return nil
		}
		r.Add(tt)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("task types in %s: %w", origin, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(r.byName) == 0 {
		return nil, fmt.Errorf("task types: no .yaml files in %s", origin)
	}
	return r, nil
}

// Add registers a task type, replacing one of the same name.
func (r *Registry) Add(tt *countersign.TaskType) {
	r.byName[tt.Name] = tt
	r.byVersion[tt.Version] = tt
}

// Get returns the current version of the named task type.
func (r *Registry) Get(name string) (*countersign.TaskType, error) {
	tt, ok := r.byName[name]
	if !ok {
		return nil, countersign.Errorf(countersign.CodeNotFound, "unknown task type %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	return tt, nil
}

// Names lists the task type names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for name := range r.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// All returns the task types sorted by name.
func (r *Registry) All() []*countersign.TaskType {
	out := make([]*countersign.TaskType, 0, len(r.byName))
	for _, name := range r.Names() {
		out = append(out, r.byName[name])
	}
	return out
}

// Resolver finds a task type by version: in the registry when this process
// loaded it, else from the snapshot stored when a document was submitted
// under it. Versions are content hashes, so resolved versions are cached for
// good.
type Resolver struct {
	registry *Registry
	store    countersign.TaskTypeStore
	mu       sync.Mutex
	cache    map[string]*countersign.TaskType
}

// NewResolver returns a Resolver over a registry and a snapshot store.
func NewResolver(registry *Registry, store countersign.TaskTypeStore) *Resolver {
	return &Resolver{registry: registry, store: store, cache: map[string]*countersign.TaskType{}}
}

// Version returns the task type of the given version.
func (r *Resolver) Version(ctx context.Context, version string) (*countersign.TaskType, error) {
	if tt, ok := r.registry.byVersion[version]; ok {
		return tt, nil
	}
	r.mu.Lock()
	tt, ok := r.cache[version]
	r.mu.Unlock()
	if ok {
		return tt, nil
	}
	snap, err := r.store.GetTaskType(ctx, version)
	if err != nil {
		return nil, err
	}
	tt, err = Parse(snap.Source, "stored task type "+snap.Name+"@"+version)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[version] = tt
	r.mu.Unlock()
	return tt, nil
}

// Current returns the version of the named task type this process loaded:
// the one new documents run under.
func (r *Resolver) Current(_ context.Context, name string) (*countersign.TaskType, error) {
	return r.registry.Get(name)
}
