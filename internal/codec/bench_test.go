package codec_test

import (
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/codec"
)

// BenchmarkPayloadCodec measures what encryption adds to a payload the
// worker writes anyway: a 20-field draft with evidence, converted to a
// payload by the SDK's data converter (the baseline) and then encrypted and
// decrypted again. Report the ratio of the two.
func BenchmarkPayloadCodec(b *testing.B) {
	draft := &countersign.Draft{Fields: countersign.Fields{}, Evidence: map[string]countersign.Evidence{}}
	for i := range 20 {
		name := "field_" + strings.Repeat("x", i%5) + string(rune('a'+i))
		draft.Fields[name] = strings.Repeat("value ", 8)
		draft.Evidence[name] = countersign.Evidence{Quote: strings.Repeat("a quote from the document ", 4), Start: i * 100, End: i*100 + 100}
	}
	dc := converter.GetDefaultDataConverter()
	keys, err := codec.NewKeyring(codec.Key{ID: "bench", Secret: secret(7)})
	if err != nil {
		b.Fatal(err)
	}
	c := codec.New(keys)
	b.Run("convert", func(b *testing.B) {
		for b.Loop() {
			if _, err := dc.ToPayload(draft); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("convert+encrypt+decrypt", func(b *testing.B) {
		for b.Loop() {
			p, err := dc.ToPayload(draft)
			if err != nil {
				b.Fatal(err)
			}
			sealed, err := c.Encode([]*commonpb.Payload{p})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Decode(sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}
