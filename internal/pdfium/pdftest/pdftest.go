// Package pdftest writes small PDFs for tests, by hand, so no binary fixture
// comes from elsewhere: a text layer in Helvetica, and the hostile shapes
// intake must refuse (a page bomb, a decompression bomb, an encrypted file).
package pdftest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// Options shape a generated PDF beyond its text.
type Options struct {
	// Flate compresses the content streams.
	Flate bool
	// Encrypt adds a standard security handler whose user password is not
	// empty, so the file cannot be opened without it.
	Encrypt bool
	// ClaimPages, when set, is the page count the page tree claims,
	// whatever its kids are.
	ClaimPages int
	// BombBytes, when set, adds to the first page a FlateDecode content
	// stream that inflates to that many bytes of spaces.
	BombBytes int64
	// Rotate, when set, is every page's /Rotate (a multiple of 90): a
	// viewer shows the page turned clockwise by that many degrees.
	Rotate int
	// Origin, when set, moves every page's crop box to start at (Origin,
	// Origin) in user space, within a media box from (0, 0) that is Origin
	// larger; the text moves with it, so the page shown is the same.
	Origin int
}

// Width and Height are the size of every generated page (US Letter), in
// points.
const (
	Width  = 612
	Height = 792
)

// Layout of the generated text: Helvetica at FontSize, the first line's
// baseline at Top from the page's top, Left from its left edge, lines
// Leading apart.
const (
	FontSize = 12
	Left     = 72
	Top      = 72
	Leading  = 16
)

// PDF returns a PDF whose pages hold the given lines of text, one page per
// element, drawn at Left, Top and Leading apart.
func PDF(pages [][]string, o Options) []byte {
	var objs []string // objs[i] is the body of object i+1
	add := func(body string) int {
		objs = append(objs, body)
		return len(objs)
	}
	catalog := add("")
	tree := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	for i, lines := range pages {
		content := []byte(textOps(lines, o.Origin))
		stream := streamObj(content, o.Flate)
		if i == 0 && o.BombBytes > 0 {
			bomb := add(bombObj(o.BombBytes))
			c := add(stream)
			kids = append(kids, fmt.Sprintf("%d 0 R", add(pageObj(tree, font, fmt.Sprintf("[%d 0 R %d 0 R]", bomb, c), o))))
			continue
		}
		c := add(stream)
		kids = append(kids, fmt.Sprintf("%d 0 R", add(pageObj(tree, font, fmt.Sprintf("%d 0 R", c), o))))
	}
	count := len(pages)
	if o.ClaimPages > 0 {
		count = o.ClaimPages
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree)
	objs[tree-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), count)
	trailer := fmt.Sprintf("/Size %d /Root %d 0 R", len(objs)+1, catalog)
	if o.Encrypt {
		// Revision 2 RC4: O and U are 32 bytes each; with these U does not
		// match the empty user password, so a reader must ask for one.
		enc := add(fmt.Sprintf("<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -44 >>",
			strings.Repeat("4f", 32), strings.Repeat("55", 32)))
		trailer += fmt.Sprintf(" /Encrypt %d 0 R /ID [<%s> <%s>]", enc, strings.Repeat("ab", 16), strings.Repeat("ab", 16))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, body := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xref)
	return b.Bytes()
}

// PageBomb returns a PDF of n pages, all sharing one small content stream:
// a few bytes per page, so a file far under any byte limit claims
// thousands of pages.
func PageBomb(n int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 5+i)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	obj(streamObj([]byte(textOps([]string{"page"}, 0)), false))
	for range n {
		obj(pageObj(2, 3, "4 0 R", Options{}))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

func pageObj(parent, font int, contents string, o Options) string {
	boxes := fmt.Sprintf("/MediaBox [0 0 %d %d]", Width, Height)
	if o.Origin != 0 {
		boxes = fmt.Sprintf("/MediaBox [0 0 %d %d] /CropBox [%d %d %d %d]",
			o.Origin+Width, o.Origin+Height, o.Origin, o.Origin, o.Origin+Width, o.Origin+Height)
	}
	if o.Rotate != 0 {
		boxes += fmt.Sprintf(" /Rotate %d", o.Rotate)
	}
	return fmt.Sprintf("<< /Type /Page /Parent %d 0 R %s /Resources << /Font << /F1 %d 0 R >> >> /Contents %s >>",
		parent, boxes, font, contents)
}

// textOps draws lines from Left and Top of a page whose lower left corner
// is at (origin, origin).
func textOps(lines []string, origin int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "BT /F1 %d Tf %d TL %d %d Td\n", FontSize, Leading, origin+Left, origin+Height-Top)
	for i, line := range lines {
		if i > 0 {
			b.WriteString("T*\n")
		}
		fmt.Fprintf(&b, "(%s) Tj\n", escape(line))
	}
	b.WriteString("ET\n")
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

func streamObj(data []byte, flate bool) string {
	if flate {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(data)
		w.Close()
		return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes())
	}
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data)
}

// bombObj is a content stream of n spaces (harmless to draw), deflated as
// hard as deflate goes: about a thousandth of its inflated size.
func bombObj(n int64) string {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for left := n; left > 0; left -= int64(len(chunk)) {
		w.Write(chunk[:min(int64(len(chunk)), left)])
	}
	w.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes())
}
