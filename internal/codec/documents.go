package codec

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/countersign/countersign"
)

// bodyPrefix starts a document body encrypted at rest, followed by the key
// ID, a colon and the base64 of the nonce and sealed text.
const bodyPrefix = "countersign:encrypted:v1:"

// EncryptDocuments returns s with document bodies encrypted at rest: a body
// is sealed with the keyring's current key as it is stored, bound to its
// document's ID (so a body moved to another row does not decrypt), and
// opened as it is read. Bodies stored in clear before read as they are, so
// turning encryption on needs no migration; the content hash stays that of
// the clear text, as intake's idempotency compares it.
func EncryptDocuments(s countersign.Store, keys *Keyring) countersign.Store {
	return &encryptedDocuments{Store: s, keys: keys}
}

type encryptedDocuments struct {
	countersign.Store
	keys *Keyring
}

func (e *encryptedDocuments) CreateDocument(ctx context.Context, doc *countersign.Document) (*countersign.Document, bool, error) {
	sealed := *doc
	var err error
	if sealed.Content, err = e.seal(doc.ID, doc.Content); err != nil {
		return nil, false, err
	}
	stored, created, err := e.Store.CreateDocument(ctx, &sealed)
	if err != nil {
		return nil, false, err
	}
	return stored, created, e.open(stored)
}

func (e *encryptedDocuments) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	doc, err := e.Store.GetDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	return doc, e.open(doc)
}

func (e *encryptedDocuments) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	return e.Store.ScanDocuments(ctx, f, func(doc *countersign.Document) error {
		if err := e.open(doc); err != nil {
			return err
		}
		return fn(doc)
	})
}

func (e *encryptedDocuments) seal(documentID, content string) (string, error) {
	id, sealed, err := e.keys.Seal([]byte(content), []byte(documentID))
	if err != nil {
		return "", fmt.Errorf("encrypt document %s: %w", documentID, err)
	}
	return bodyPrefix + id + ":" + base64.StdEncoding.EncodeToString(sealed), nil
}

// open decrypts doc's body in place, if it was stored encrypted.
func (e *encryptedDocuments) open(doc *countersign.Document) error {
	rest, ok := strings.CutPrefix(doc.Content, bodyPrefix)
	if !ok {
		return nil
	}
	what := "document " + doc.ID
	id, encoded, ok := strings.Cut(rest, ":")
	if !ok {
		return fmt.Errorf("%s: encrypted body names no key", what)
	}
	sealed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("%s: encrypted body is not base64: %w", what, err)
	}
	plain, err := e.keys.Open(what, id, sealed, []byte(doc.ID))
	if err != nil {
		return err
	}
	doc.Content = string(plain)
	return nil
}
