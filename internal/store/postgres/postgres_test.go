package postgres_test

import (
	"context"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/storetest"
)

func open(t *testing.T) countersign.Store {
	s, err := postgres.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: open,
		Exec: func(t *testing.T, s countersign.Store, statement string) {
			if _, err := s.(*postgres.Store).Pool().Exec(context.Background(), statement); err != nil {
				t.Fatalf("%s: %v", statement, err)
			}
		},
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	url := pgtest.Database(t)
	for range 2 {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
