package store

import (
	"encoding/json"
	"fmt"

	"github.com/countersign/countersign"
)

// DecodeLayout reads a stored layout; nil when none was stored.
func DecodeLayout(raw *string) (*countersign.Layout, error) {
	if raw == nil {
		return nil, nil
	}
	var l countersign.Layout
	if err := json.Unmarshal([]byte(*raw), &l); err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	return &l, nil
}
