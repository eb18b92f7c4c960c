package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// PutOriginal stores o unless an original with its SHA-256 is stored.
func (s *Store) PutOriginal(ctx context.Context, o *countersign.Original) error {
	layout, err := store.JSON(o.Layout)
	if err != nil {
		return err
	}
	err = s.write.PutOriginal(ctx, dbsqlc.PutOriginalParams{
		Sha256: o.SHA256, ContentType: o.ContentType, Size: o.Size, Data: o.Data, Layout: layout,
		CreatedAt: store.FormatTime(s.now()),
	})
	if err != nil {
		return fmt.Errorf("store original %s: %w", o.SHA256, err)
	}
	return nil
}

// GetOriginal returns an original, with its file if data is true.
func (s *Store) GetOriginal(ctx context.Context, sha256 string, data bool) (*countersign.Original, error) {
	var o countersign.Original
	var layout *string
	var err error
	if data {
		var row dbsqlc.GetOriginalRow
		row, err = s.read.GetOriginal(ctx, sha256)
		o, layout = countersign.Original{SHA256: row.Sha256, ContentType: row.ContentType, Size: row.Size, Data: row.Data}, row.Layout
	} else {
		var row dbsqlc.GetOriginalLayoutRow
		row, err = s.read.GetOriginalLayout(ctx, sha256)
		o, layout = countersign.Original{SHA256: row.Sha256, ContentType: row.ContentType, Size: row.Size}, row.Layout
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "original %s not found", sha256)
	}
	if err != nil {
		return nil, fmt.Errorf("get original %s: %w", sha256, err)
	}
	if o.Layout, err = store.DecodeLayout(layout); err != nil {
		return nil, fmt.Errorf("original %s: %w", sha256, err)
	}
	return &o, nil
}
