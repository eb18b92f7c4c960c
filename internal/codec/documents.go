package codec

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

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

func (e *encryptedDocuments) MarkDelivered(ctx context.Context, id string, at time.Time) (*countersign.Document, error) {
	doc, err := e.Store.MarkDelivered(ctx, id, at)
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

// originalPrefix starts an original file sealed at rest, followed by the
// key ID, a colon and the nonce and sealed bytes. A PDF starts with %PDF-,
// so a file stored in clear is never taken for a sealed one.
const originalPrefix = "countersign:encrypted:v1:"

// PutOriginal seals the file, bound to its SHA-256. Its layout (page
// sizes and word boxes, no text) is stored as it is.
func (e *encryptedDocuments) PutOriginal(ctx context.Context, o *countersign.Original) error {
	id, sealed, err := e.keys.Seal(o.Data, []byte(o.SHA256))
	if err != nil {
		return fmt.Errorf("encrypt original %s: %w", o.SHA256, err)
	}
	s := *o
	s.Data = append([]byte(originalPrefix+id+":"), sealed...)
	return e.Store.PutOriginal(ctx, &s)
}

func (e *encryptedDocuments) GetOriginal(ctx context.Context, sha256 string, data bool) (*countersign.Original, error) {
	o, err := e.Store.GetOriginal(ctx, sha256, data)
	if err != nil || !data {
		return o, err
	}
	rest, ok := bytes.CutPrefix(o.Data, []byte(originalPrefix))
	if !ok {
		return o, nil
	}
	what := "original " + sha256
	id, sealed, ok := bytes.Cut(rest, []byte(":"))
	if !ok {
		return nil, fmt.Errorf("%s: encrypted file names no key", what)
	}
	if o.Data, err = e.keys.Open(what, string(id), sealed, []byte(sha256)); err != nil {
		return nil, err
	}
	return o, nil
}
