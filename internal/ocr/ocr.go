// Package ocr reads the text of scans (PNG, JPEG and TIFF images, and PDF
// pages without a text layer once rendered) with Tesseract, run as a
// subprocess found on the PATH when a page is read: words, their boxes and
// their confidences. Countersign stays one binary; a server without
// Tesseract refuses scans with a message saying what to install, and reads
// everything else.
//
// An image is decoded here, within a byte and a pixel limit checked on its
// declared size before any pixel is decoded, and Tesseract is given a
// grayscale PNG this package wrote: it never parses a submitted file. Each
// page is read under a deadline, with a bound on Tesseract's memory, one
// thread per run and a bounded number of runs at once.
package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/countersign/countersign"
)

// Limits bound what reading one scan may cost.
type Limits struct {
	// MaxBytes is the largest image file accepted, in bytes.
	MaxBytes int
	// MaxPixels is the most pixels an image, or a PDF page rendered for
	// OCR, may have.
	MaxPixels int64
	// MaxPages is the most pages of one document read by OCR.
	MaxPages int
	// PageTimeout is how long reading one page may take.
	PageTimeout time.Duration
	// MemoryBytes bounds the address space of one Tesseract run.
	MemoryBytes int64
	// Workers is how many pages are read at once; more wait.
	Workers int
}

// Defaults for Limits: an A4 page scanned at 600 dpi fits (35 million
// pixels at most is 40), a page takes Tesseract a few seconds on one core.
const (
	DefaultMaxBytes    = 20 << 20
	DefaultMaxPixels   = 40_000_000
	DefaultMaxPages    = 50
	DefaultPageTimeout = 60 * time.Second
	DefaultMemoryBytes = 1 << 30
	DefaultWorkers     = 2
	// DefaultTesseract is the command run, looked up on the PATH.
	DefaultTesseract = "tesseract"
	// DefaultLanguage is Tesseract's English, which Debian's tesseract-ocr
	// brings (tesseract-ocr-eng).
	DefaultLanguage = "eng"
)

// Config says which Tesseract to run, in which language, within what
// limits; zero parts take the defaults.
type Config struct {
	Limits
	// Tesseract is the command: a name looked up on the PATH when a page
	// is read, or a path.
	Tesseract string
	// Language is Tesseract's -l: one language (eng) or several (eng+deu).
	Language string
}

func (c Config) withDefaults() Config {
	l := &c.Limits
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.PageTimeout <= 0 {
		l.PageTimeout = DefaultPageTimeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.Workers <= 0 {
		l.Workers = DefaultWorkers
	}
	if c.Tesseract == "" {
		c.Tesseract = DefaultTesseract
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	return c
}

var languagePattern = regexp.MustCompile(`^[A-Za-z_]+(\+[A-Za-z_]+)*$`)

// Check reports what is wrong with a configuration, naming the flag.
func (c Config) Check() error {
	if c.Language != "" && !languagePattern.MatchString(c.Language) {
		return fmt.Errorf("ocr-language is %q: give Tesseract languages such as eng or eng+deu", c.Language)
	}
	return nil
}

// Reader reads scans with Tesseract. It is safe for concurrent use.
type Reader struct {
	cfg     Config
	workers chan struct{}
}

// New returns a Reader of the configuration (zero parts take the
// defaults).
func New(cfg Config) *Reader {
	cfg = cfg.withDefaults()
	return &Reader{cfg: cfg, workers: make(chan struct{}, cfg.Workers)}
}

// Limits returns the limits in force.
func (r *Reader) Limits() Limits { return r.cfg.Limits }

// refuse is an error about the file, for the person who submitted it.
func refuse(code countersign.Code, format string, args ...any) error {
	return countersign.Errorf(code, "OCR: "+format, args...)
}

// Available reports whether Tesseract can be run: nil, or an error for the
// submitter saying what the server lacks and what to install.
func (r *Reader) Available() error {
	_, err := r.tesseract()
	return err
}

func (r *Reader) tesseract() (string, error) {
	path, err := exec.LookPath(r.cfg.Tesseract)
	if err != nil {
		return "", countersign.Errorf(countersign.CodeInvalid,
			"this is a scan, and reading it needs OCR by Tesseract, which this server does not have (%q not found): install it (apt-get install tesseract-ocr) or set --tesseract to its path; files with a text layer are read without it",
			r.cfg.Tesseract)
	}
	return path, nil
}

// Page reads the text of one page's image, taken at dpi dots per inch:
// the words in reading order (a space between words, a line break between
// lines, a blank line between paragraphs), each with its box in points
// from the page's top left corner and Tesseract's confidence. The page is
// marked OCR.
//
// The caller holds a Slot from before it decodes or renders img until
// Page returns, so that the pages held in memory at once are bounded by
// Workers, not by the requests waiting.
func (r *Reader) Page(ctx context.Context, img image.Image, dpi float64) (countersign.PageText, error) {
	b := img.Bounds()
	if px := int64(b.Dx()) * int64(b.Dy()); px > r.cfg.MaxPixels {
		return countersign.PageText{}, refuse(countersign.CodeTooLarge, "the page is %d×%d pixels (%d); the limit is %d (ocr-max-pixels)", b.Dx(), b.Dy(), px, r.cfg.MaxPixels)
	}
	if b.Dx() == 0 || b.Dy() == 0 {
		return countersign.PageText{}, refuse(countersign.CodeInvalid, "the page image is empty (%d×%d pixels)", b.Dx(), b.Dy())
	}
	if dpi <= 0 {
		return countersign.PageText{}, fmt.Errorf("ocr: resolution %v dpi is not positive", dpi)
	}
	path, err := r.tesseract()
	if err != nil {
		return countersign.PageText{}, err
	}
	var in bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&in, gray(img)); err != nil {
		return countersign.PageText{}, fmt.Errorf("ocr: encode the page for Tesseract: %w", err)
	}
	out, err := r.run(ctx, path, in.Bytes(), dpi)
	if err != nil {
		return countersign.PageText{}, err
	}
	page, err := parseTSV(out, 72/dpi)
	if err != nil {
		return countersign.PageText{}, err
	}
	page.Width, page.Height = float64(b.Dx())*72/dpi, float64(b.Dy())*72/dpi
	page.OCR = true
	return page, nil
}

// Slot waits for one of the Workers runs at once and returns its release.
// Take it before decoding or rendering a page for OCR: a decoded page is
// up to MaxPixels × 8 bytes, and a request waiting for a run must not hold
// one.
func (r *Reader) Slot(ctx context.Context) (release func(), err error) {
	select {
	case r.workers <- struct{}{}:
		return func() { <-r.workers }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// gray returns img as 8-bit grayscale, which is what Tesseract reads and
// the smallest PNG to hand it.
func gray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Over)
	return g
}

// maxOutput bounds what a Tesseract run may write: a dense page's TSV is
// a few hundred KiB.
const maxOutput = 16 << 20

// run runs Tesseract on one PNG and returns its TSV.
func (r *Reader) run(parent context.Context, path string, in []byte, dpi float64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(parent, r.cfg.PageTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "stdin", "stdout", "-l", r.cfg.Language, "--dpi", strconv.Itoa(int(dpi+0.5)), "tsv")
	// One thread per run: the runs at once are bounded by Workers, and
	// OpenMP's threads would take every core for little gain.
	// Only what Tesseract needs of the environment: the server's holds
	// secrets (tokens, database URLs) a subprocess has no business with.
	cmd.Env = []string{"OMP_THREAD_LIMIT=1", "PATH=" + os.Getenv("PATH")}
	if v, ok := os.LookupEnv("TESSDATA_PREFIX"); ok {
		cmd.Env = append(cmd.Env, "TESSDATA_PREFIX="+v)
	}
	cmd.Stdin = bytes.NewReader(in)
	stdout := &capped{limit: maxOutput}
	stderr := &capped{limit: 64 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, r.stopped(parent)
		}
		return nil, fmt.Errorf("ocr: start Tesseract: %w", err)
	}
	// The bound on memory is set as the process starts, before it has
	// read its language data, let alone the page.
	limit := uint64(r.cfg.MemoryBytes)
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil && !errors.Is(err, unix.ESRCH) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("ocr: limit Tesseract's memory: %w", err)
	}
	err := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, r.stopped(parent)
	case stdout.over:
		return nil, refuse(countersign.CodeInvalid, "Tesseract wrote more than %d bytes for one page", maxOutput)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "Failed loading language") {
			return nil, countersign.Errorf(countersign.CodeInvalid, "OCR: Tesseract has no %q language data on this server: install it (apt-get install tesseract-ocr-%s) or set --ocr-language", r.cfg.Language, strings.Split(r.cfg.Language, "+")[0])
		}
		if strings.Contains(msg, "alloc") || strings.Contains(msg, "memory") {
			return nil, refuse(countersign.CodeInvalid, "reading the page took more than the memory limit of %d MiB (ocr-memory-bytes)", r.cfg.MemoryBytes>>20)
		}
		first, _, _ := strings.Cut(msg, "\n")
		return nil, fmt.Errorf("ocr: Tesseract failed (%v): %s", err, first)
	}
	return stdout.Bytes(), nil
}

// stopped says why a run's context ended: the caller's ended, or else the
// page's deadline passed.
func (r *Reader) stopped(parent context.Context) error {
	if err := parent.Err(); err != nil {
		return err
	}
	return refuse(countersign.CodeInvalid, "reading the page took longer than %s (ocr-page-timeout)", r.cfg.PageTimeout)
}

// capped is a buffer that keeps at most limit bytes and notes when more
// came; it never fails a write, so the process is not killed by a broken
// pipe before its exit says what went wrong.
type capped struct {
	bytes.Buffer
	limit int
	over  bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - c.Len(); len(p) > room {
		c.over = true
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
