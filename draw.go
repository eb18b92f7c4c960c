package countersign

import (
	"crypto/sha256"
	"encoding/binary"
)

// Draw is a fraction in [0,1) fixed by b: the first 53 bits of SHA-256(b)
// over 2^53, spread as if uniformly. The engine's draws that must give the
// same answer at every reading (a training split, an audit draw's start,
// the uniform sample) read it.
func Draw(b []byte) float64 {
	sum := sha256.Sum256(b)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}
