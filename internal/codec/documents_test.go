package codec_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/store/storetest"
)

func keyring(t *testing.T, keys ...codec.Key) *codec.Keyring {
	t.Helper()
	k, err := codec.NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func secret(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b)), codec.KeySize)) }

// TestEncryptedDocumentsConformance runs the whole store suite through the
// encrypting store: whatever a store promises, it still does.
func TestEncryptedDocumentsConformance(t *testing.T) {
	keys := keyring(t, codec.Key{ID: "k1", Secret: secret(1)})
	raw := map[countersign.Store]*sqlite.Store{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) countersign.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			e := codec.EncryptDocuments(s, keys)
			raw[e] = s
			return e
		},
		Exec: func(t *testing.T, s countersign.Store, statement string) {
			if _, err := raw[s].DB().ExecContext(context.Background(), statement); err != nil {
				t.Fatalf("%s: %v", statement, err)
			}
		},
	})
}

// TestEncryptedDocuments: bodies are ciphertext at rest and clear text
// through the store; clear bodies from before still read; rotation keeps
// old bodies readable; a missing key is named; a body moved to another
// document does not decrypt.
func TestEncryptedDocuments(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k1 := codec.Key{ID: "k1", Secret: secret(1)}
	k2 := codec.Key{ID: "k2", Secret: secret(2)}
	const body = "This Agreement is made between Acme Corp and Globex Ltd."
	doc := func(id, content string) *countersign.Document {
		return &countersign.Document{ID: id, TaskType: "t", TaskTypeVersion: "v", Content: content,
			ContentSHA256: countersign.ContentSHA256(content), Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Now()}
	}
	rawContent := func(id string) string {
		var c string
		if err := s.DB().QueryRowContext(ctx, `SELECT content FROM documents WHERE id = ?`, id).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// A body stored before encryption was turned on.
	if _, _, err := s.CreateDocument(ctx, doc("old", "stored in clear")); err != nil {
		t.Fatal(err)
	}
	enc := codec.EncryptDocuments(s, keyring(t, k1))
	stored, created, err := enc.CreateDocument(ctx, doc("d1", body))
	if err != nil || !created || stored.Content != body || stored.ContentSHA256 != countersign.ContentSHA256(body) {
		t.Fatalf("CreateDocument = %+v, created %v, %v", stored, created, err)
	}
	if at := rawContent("d1"); strings.Contains(at, "Acme") || !strings.HasPrefix(at, "countersign:encrypted:v1:k1:") {
		t.Fatalf("body at rest = %q, want ciphertext under k1", at)
	}
	again, created, err := enc.CreateDocument(ctx, doc("d1", body))
	if err != nil || created || again.Content != body {
		t.Fatalf("CreateDocument again = %+v, created %v, %v", again, created, err)
	}
	for _, id := range []string{"d1", "old"} {
		got, err := enc.GetDocument(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"d1": body, "old": "stored in clear"}[id]; got.Content != want {
			t.Errorf("GetDocument(%s) = %q, want %q", id, got.Content, want)
		}
	}

	// Rotation: k2 encrypts from now on, k1 still decrypts.
	rotated := codec.EncryptDocuments(s, keyring(t, k2, k1))
	if _, _, err := rotated.CreateDocument(ctx, doc("d2", "a second contract")); err != nil {
		t.Fatal(err)
	}
	if at := rawContent("d2"); !strings.HasPrefix(at, "countersign:encrypted:v1:k2:") {
		t.Fatalf("body stored after rotation = %q, want under k2", at)
	}
	var scanned []string
	if err := rotated.ScanDocuments(ctx, countersign.DocumentFilter{}, func(d *countersign.Document) error {
		scanned = append(scanned, d.Content)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(scanned, "|") != "stored in clear|"+body+"|a second contract" {
		t.Fatalf("scanned bodies = %q", scanned)
	}

	// k1 retired too soon: the error names the key, never a wrong body.
	if _, err := codec.EncryptDocuments(s, keyring(t, k2)).GetDocument(ctx, "d1"); err == nil || !strings.Contains(err.Error(), `key "k1", which is not in the keyring`) {
		t.Fatalf("reading a k1 body without k1: %v", err)
	}
	// A body copied into another document's row does not decrypt there.
	if _, err := s.DB().ExecContext(ctx, `UPDATE documents SET content = (SELECT content FROM documents WHERE id = 'd1') WHERE id = 'd2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.GetDocument(ctx, "d2"); err == nil || !strings.Contains(err.Error(), "document d2 encrypted with key \"k1\" does not decrypt") {
		t.Fatalf("reading d1's body moved to d2: %v", err)
	}
}

// TestEncryptedOriginals: an original file is sealed at rest, bound to its
// hash (a sealed file moved under another hash does not open), and read
// back in clear.
func TestEncryptedOriginals(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	enc := codec.EncryptDocuments(s, keyring(t, codec.Key{ID: "k1", Secret: secret(1)}))
	file := []byte("%PDF-1.4 Acme Corp and Globex Ltd")
	if err := enc.PutOriginal(ctx, &countersign.Original{SHA256: "h1", ContentType: countersign.ContentTypePDF, Size: int64(len(file)), Data: file}); err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetOriginal(ctx, "h1", true)
	if err != nil || bytes.Contains(raw.Data, []byte("Acme")) || !bytes.HasPrefix(raw.Data, []byte("countersign:encrypted:v1:k1:")) {
		t.Fatalf("original at rest = %q, %v; want ciphertext under k1", raw.Data, err)
	}
	got, err := enc.GetOriginal(ctx, "h1", true)
	if err != nil || !bytes.Equal(got.Data, file) {
		t.Fatalf("GetOriginal = %q, %v; want the file", got.Data, err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE originals SET sha256 = 'h2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.GetOriginal(ctx, "h2", true); err == nil {
		t.Fatal("a sealed file moved under another hash opened")
	}
}
