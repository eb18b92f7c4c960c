package countersign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// DocumentID derives a document's ID: from the caller's external ID within the
// task type when there is one, else from the content. The same document
// submitted twice gets the same ID, which is what makes intake idempotent.
// IDs are the first 128 bits of a SHA-256, in hex.
func DocumentID(taskType, externalID, content string) string {
	h := sha256.New()
	if externalID != "" {
		fmt.Fprintf(h, "external\x00%s\x00%s", taskType, externalID)
	} else {
		fmt.Fprintf(h, "content\x00%s\x00%s", taskType, content)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ContentSHA256 is the hex SHA-256 of a document body.
func ContentSHA256(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// ReviewID names the n-th review opened for a document (counting from 1).
func ReviewID(documentID string, n int) string {
	return fmt.Sprintf("%s-r%d", documentID, n)
}
