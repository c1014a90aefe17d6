package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/imageopto/imageopto"
)

const convertUsage = `usage: imageopto convert -q QUERY -o OUTDIR [-j N] [-skip-existing] FILE|DIR...

Transforms every FILE, and every image under each DIR (chosen by extension;
hidden files and folders and symbolic links are left out), with a Fastly
Image Optimizer QUERY (see docs/url-api.md), and writes the results under
OUTDIR: a FILE by its name, an image under a DIR by its path relative to
that DIR. Each output takes the extension of its format (photo.png with
format=webp becomes photo.webp). Inputs are never overwritten, and a folder
named by -o inside a DIR is not read.

On a terminal, a progress bar with the rate and the time left; otherwise one
line per file. Then a summary (files, failures with their reasons, bytes in
and out, saving) on standard output. The exit status is 1 when any file
failed, 2 for a bad command line.

flags:
`

// convertExts are the file name extensions a folder walk picks up; files
// named on the command line are tried whatever their name.
var convertExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".png": true, ".gif": true,
	".webp": true, ".avif": true, ".heic": true, ".heif": true,
}

// formatExt is the file name extension written for each output format.
var formatExt = map[imageopto.ImageFormat]string{
	imageopto.JPEG: ".jpg", imageopto.PNG: ".png", imageopto.GIF: ".gif",
	imageopto.WebP: ".webp", imageopto.AVIF: ".avif", imageopto.HEIC: ".heic",
	imageopto.JXL: ".jxl",
}

// convertInput is one file to convert.
type convertInput struct {
	path string // as found: the argument, or joined onto the argument's folder
	stem string // output path without extension
	err  error  // set when finding it failed (an unreadable folder, a missing file)
}

// convertOutcome is what happened to one input.
type convertOutcome struct {
	index    int
	in       convertInput
	out      string // output path, when known
	skipped  bool
	err      error
	inBytes  int64
	outBytes int64
}

// converter holds what every worker shares.
type converter struct {
	params       imageopto.Params
	opts         *imageopto.TransformOptions
	skipExisting bool
	inputs       map[string]bool // canonical paths of every input, never written

	mu      sync.Mutex
	claimed map[string]string // output path → input that writes it
}

// runConvert is "imageopto convert". It returns a *usageError for a bad
// command line and an error when any file failed; per-file progress goes
// to stderr and the summary to stdout.
func runConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("imageopto convert", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	query := flags.String("q", "", "Fastly Image Optimizer `QUERY`, e.g. 'width=800&format=webp'")
	outDir := flags.String("o", "", "output folder `OUTDIR` (created when missing)")
	jobs := flags.Int("j", 0, "convert `N` files at once (0: the number of CPUs)")
	skipExisting := flags.Bool("skip-existing", false, "leave a file alone when its output exists and is not older than it (the query is not compared)")
	args, err := parseInterspersed(flags, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, convertUsage)
			flags.SetOutput(stdout)
			flags.PrintDefaults()
			return nil
		}
		return &usageError{err}
	}
	switch {
	case *outDir == "":
		return &usageError{errors.New("convert needs -o OUTDIR")}
	case len(args) == 0:
		return &usageError{errors.New("convert needs at least one FILE or DIR")}
	case *jobs < 0:
		return &usageError{errors.New("-j must not be negative")}
	case *jobs == 0:
		*jobs = runtime.NumCPU()
	}
	p, err := imageopto.ParseParams(strings.TrimPrefix(*query, "?"))
	if err != nil {
		return &usageError{fmt.Errorf("-q: %s", oneLine(err))}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}

	c := &converter{
		params:       p,
		opts:         &imageopto.TransformOptions{PlanOptions: imageopto.PlanOptions{Codecs: extraCodecs()}},
		skipExisting: *skipExisting,
		inputs:       map[string]bool{},
		claimed:      map[string]string{},
	}
	list := findInputs(args, *outDir)
	if len(list) == 0 {
		return errors.New("convert: no image files found")
	}
	for _, in := range list {
		if in.err == nil {
			c.inputs[canonical(in.path)] = true
		}
	}

	start := time.Now()
	prog := newProgress(stderr, len(list), isTerminal(stderr))
	outcomes := c.run(ctx, list, *jobs, prog)
	prog.finish()
	s := summarize(outcomes)
	s.write(stdout, time.Since(start))
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("convert interrupted: %w", ctx.Err())
	case s.failed > 0:
		return fmt.Errorf("convert: %d of %d files failed", s.failed, len(outcomes))
	}
	return nil
}

// findInputs lists the files to convert, in argument order and, within a
// folder, in lexical order. Folders named outDir are not entered.
func findInputs(args []string, outDir string) []convertInput {
	outCanon := canonical(outDir)
	var list []convertInput
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			list = append(list, convertInput{path: arg, err: err})
			continue
		}
		if !st.IsDir() {
			list = append(list, convertInput{path: arg, stem: filepath.Join(outDir, trimExt(filepath.Base(arg)))})
			continue
		}
		_ = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				list = append(list, convertInput{path: path, err: err})
				return nil // WalkDir skips what it could not read
			}
			hidden := path != arg && strings.HasPrefix(d.Name(), ".")
			if d.IsDir() {
				if hidden || (path != arg && canonical(path) == outCanon) {
					return filepath.SkipDir
				}
				return nil
			}
			if hidden || !d.Type().IsRegular() || !convertExts[strings.ToLower(filepath.Ext(path))] {
				return nil
			}
			rel, err := filepath.Rel(arg, path)
			if err != nil {
				list = append(list, convertInput{path: path, err: err})
				return nil
			}
			list = append(list, convertInput{path: path, stem: filepath.Join(outDir, trimExt(rel))})
			return nil
		})
	}
	return list
}

// trimExt drops the extension of a file name.
func trimExt(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }

// canonical is an absolute path with symbolic links resolved, for
// comparing paths; when the file does not exist, its cleaned absolute path.
func canonical(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// run converts the inputs on n workers, reporting each outcome to prog,
// and returns the outcomes in input order. When ctx is done, inputs not yet
// started fail with its error.
func (c *converter) run(ctx context.Context, list []convertInput, n int, prog progress) []convertOutcome {
	work := make(chan int)
	done := make(chan convertOutcome)
	var wg sync.WaitGroup
	for range min(n, len(list)) {
		wg.Go(func() {
			for i := range work {
				done <- c.convert(ctx, i, list[i])
			}
		})
	}
	go func() {
		defer close(work)
		for i := range list {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()

	outcomes := make([]convertOutcome, len(list))
	seen := make([]bool, len(list))
	for o := range done {
		outcomes[o.index], seen[o.index] = o, true
		prog.done(o)
	}
	for i := range outcomes {
		if !seen[i] {
			outcomes[i] = convertOutcome{index: i, in: list[i], err: ctx.Err()}
		}
	}
	return outcomes
}

// convert transforms one file and writes its output.
func (c *converter) convert(ctx context.Context, i int, in convertInput) convertOutcome {
	o := convertOutcome{index: i, in: in, err: in.err}
	if o.err != nil {
		return o
	}
	if err := ctx.Err(); err != nil {
		o.err = err
		return o
	}
	st, err := os.Stat(in.path)
	if err != nil {
		o.err = err
		return o
	}
	if maxBytes := imageopto.DefaultLimits().MaxSourceBytes; st.Size() > maxBytes {
		o.err = fmt.Errorf("%s is larger than the %s limit", formatSize(st.Size()), formatSize(maxBytes))
		return o
	}
	data, err := os.ReadFile(in.path)
	if err != nil {
		o.err = err
		return o
	}
	o.inBytes = int64(len(data))

	// The output's name needs its format, which the plan decides from the
	// header alone; that also finds bad parameters for this image before
	// any pixel is decoded.
	info, err := imageopto.InspectWith(data, c.opts.Codecs) // AVIF and HEIC need them
	if err != nil {
		o.err = err
		return o
	}
	plan, err := imageopto.NewPlan(c.params, info, "", &c.opts.PlanOptions)
	if err != nil {
		o.err = err
		return o
	}
	if o.out, o.err = c.claim(in, plan.Format); o.err != nil {
		return o
	}
	if c.skipExisting {
		if ost, err := os.Stat(o.out); err == nil && ost.Mode().IsRegular() && !ost.ModTime().Before(st.ModTime()) {
			o.skipped, o.inBytes = true, 0
			return o
		}
	}
	res, err := imageopto.TransformBytes(ctx, data, c.params, c.opts)
	if err != nil {
		o.err = err
		return o
	}
	if res.Output.Format != plan.Format { // not expected; name the file by what it holds
		if o.out, o.err = c.claim(in, res.Output.Format); o.err != nil {
			return o
		}
	}
	if o.err = writeFileAtomic(o.out, res.Data); o.err == nil {
		o.outBytes = int64(len(res.Data))
	}
	return o
}

// claim returns the output path of in for a format, refusing a path that
// is an input or that another input already writes.
func (c *converter) claim(in convertInput, f imageopto.ImageFormat) (string, error) {
	ext, ok := formatExt[f]
	if !ok {
		ext = "." + string(f)
	}
	out := in.stem + ext
	if c.inputs[canonical(out)] {
		return out, fmt.Errorf("output %s would overwrite an input", out)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if other, taken := c.claimed[out]; taken && other != in.path {
		return out, fmt.Errorf("output %s is already written from %s", out, other)
	}
	c.claimed[out] = in.path
	return out, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so that path never holds a partial image.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".imageopto-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// oneLine is an error's text on one line, without the library's
// "imageopto: " prefixes (joined errors are separated by "; ").
func oneLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "imageopto: ")
	}
	return strings.Join(lines, "; ")
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows outcomes as they come.
type progress interface {
	done(o convertOutcome)
	finish()
}

// newProgress is a progress bar with the rate and the time left when bar
// is true (a terminal), else one plain line per file.
func newProgress(w io.Writer, total int, bar bool) progress {
	if !bar {
		return &lineProgress{w: w, total: total}
	}
	return &barProgress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("converting"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("files"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)}
}

// barProgress draws a progress bar.
type barProgress struct{ bar *progressbar.ProgressBar }

func (p *barProgress) done(convertOutcome) { _ = p.bar.Add(1) }

// finish leaves the bar where it stopped (interrupted) and ends its line.
func (p *barProgress) finish() {
	if !p.bar.IsFinished() {
		_ = p.bar.Exit()
	}
}

// lineProgress writes one line per file.
type lineProgress struct {
	w           io.Writer
	total, seen int
}

func (p *lineProgress) done(o convertOutcome) {
	p.seen++
	prefix := fmt.Sprintf("[%*d/%d]", len(fmt.Sprint(p.total)), p.seen, p.total)
	switch {
	case o.err != nil:
		fmt.Fprintf(p.w, "%s FAILED %s: %s\n", prefix, o.in.path, oneLine(o.err))
	case o.skipped:
		fmt.Fprintf(p.w, "%s skipped %s: %s is up to date\n", prefix, o.in.path, o.out)
	default:
		fmt.Fprintf(p.w, "%s %s → %s (%s → %s)\n", prefix, o.in.path, o.out, formatSize(o.inBytes), formatSize(o.outBytes))
	}
}

func (p *lineProgress) finish() {}

// convertSummary counts outcomes.
type convertSummary struct {
	converted, skipped, failed int
	inBytes, outBytes          int64
	failures                   []convertOutcome
}

func summarize(outcomes []convertOutcome) convertSummary {
	var s convertSummary
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			s.failed++
			s.failures = append(s.failures, o)
		case o.skipped:
			s.skipped++
		default:
			s.converted++
			s.inBytes += o.inBytes
			s.outBytes += o.outBytes
		}
	}
	slices.SortFunc(s.failures, func(a, b convertOutcome) int { return cmp.Compare(a.index, b.index) })
	return s
}

// write prints the summary. Bytes in and out count the converted files
// only.
func (s convertSummary) write(w io.Writer, took time.Duration) {
	total := s.converted + s.skipped + s.failed
	fmt.Fprintf(w, "files:     %d (%d converted, %d skipped, %d failed) in %s\n",
		total, s.converted, s.skipped, s.failed, took.Round(time.Millisecond))
	if s.failed > 0 {
		fmt.Fprintln(w, "failures:")
		for _, o := range s.failures {
			fmt.Fprintf(w, "  %s: %s\n", o.in.path, oneLine(o.err))
		}
	}
	fmt.Fprintf(w, "bytes in:  %d (%s)\n", s.inBytes, formatSize(s.inBytes))
	fmt.Fprintf(w, "bytes out: %d (%s)\n", s.outBytes, formatSize(s.outBytes))
	if s.inBytes > 0 {
		saved := s.inBytes - s.outBytes
		word := "saving"
		if saved < 0 {
			word = "growth"
		}
		fmt.Fprintf(w, "%-10s %.1f%% (%s)\n", word+":", 100*float64(abs64(saved))/float64(s.inBytes), formatSize(abs64(saved)))
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
