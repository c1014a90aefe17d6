package jpegenc

import (
	"bufio"
	"bytes"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// djpegDecode runs `djpeg -ppm` (libjpeg-turbo) on a JPEG file and returns
// the width, height, channel count and samples of the PPM/PGM it writes.
func djpegDecode(t *testing.T, djpeg string, data []byte) (w, h, ch int, pix []byte) {
	t.Helper()
	cmd := exec.Command(djpeg, "-ppm")
	cmd.Stdin = bytes.NewReader(data)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("djpeg failed: %v: %s", err, errb.String())
	}
	if errb.Len() > 0 {
		t.Errorf("djpeg warns: %s", errb.String())
	}
	r := bufio.NewReader(&out)
	var magic string
	var maxv int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil {
		t.Fatalf("bad PPM header: %v", err)
	}
	if _, err := r.ReadByte(); err != nil { // the single whitespace after maxval
		t.Fatal(err)
	}
	switch magic {
	case "P6":
		ch = 3
	case "P5":
		ch = 1
	default:
		t.Fatalf("djpeg wrote %q", magic)
	}
	pix, err := io.ReadAll(r)
	if err != nil || len(pix) != w*h*ch || maxv != 255 {
		t.Fatalf("PPM body: %d bytes for %dx%dx%d (maxval %d), err %v", len(pix), w, h, ch, maxv, err)
	}
	return w, h, ch, pix
}

// TestDjpeg decodes our output with libjpeg-turbo's djpeg when it is
// installed: every mode must decode without warnings to the right size,
// and progressive and optimised files must decode to exactly the pixels of
// the plain baseline file.
func TestDjpeg(t *testing.T) {
	djpeg, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skip("djpeg not installed (Debian: libjpeg-turbo-progs)")
	}
	qualities := []int{1, 50, 90, 100}
	if testing.Short() || raceEnabled {
		qualities = []int{1, 90}
	}
	for _, sz := range [][2]int{{1, 1}, {7, 9}, {8, 8}, {17, 33}, {641, 479}} {
		photo := photoLike(sz[0], sz[1], 31)
		for _, src := range sourceKinds {
			m := src.make(photo)
			for _, sub := range []Subsampling{S420, S444} {
				for _, q := range qualities {
					var base []byte
					for _, o := range []Options{
						{Quality: q, Subsampling: sub},
						{Quality: q, Subsampling: sub, OptimizeHuffman: true},
						{Quality: q, Subsampling: sub, Progressive: true},
					} {
						w, h, ch, pix := djpegDecode(t, djpeg, encode(t, m, &o))
						wantCh := 3
						if src.name == "Gray" {
							wantCh = 1
						}
						if w != sz[0] || h != sz[1] || ch != wantCh {
							t.Fatalf("%v %s %+v: djpeg gives %dx%d with %d channels", sz, src.name, o, w, h, ch)
						}
						if base == nil {
							base = pix
							if ch == 3 && w*h > 1000 {
								if p, _, _ := diffStats(rgbPix(m), pix); p < minPSNR[q][0]-2 {
									t.Errorf("%v %s %+v: djpeg PSNR %.2f dB", sz, src.name, o, p)
								}
							}
						} else if !bytes.Equal(pix, base) {
							t.Errorf("%v %s %+v: djpeg decodes differently from baseline", sz, src.name, o)
						}
					}
				}
			}
		}
	}
}

// TestCorpus re-encodes every JPEG of the photo corpus (built by
// scripts/corpus.sh into the folder named by IMAGEOPTO_CORPUS) at
// quality 85 with image/jpeg and with ours (optimised baseline and
// progressive, 4:2:0): ours must be no larger, with a PSNR against the
// decoded original within 0.3 dB of image/jpeg's. It logs a table of the
// results. With -short or -race only the three smallest photos are checked.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS is not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	jpegs, _ := filepath.Glob(filepath.Join(dir, "*.jpeg"))
	files = append(files, jpegs...)
	slices.Sort(files)
	if len(files) == 0 {
		t.Skipf("no JPEG files in %s", dir)
	}
	if testing.Short() || raceEnabled {
		// Keep the run short: the three smallest photos only.
		pixels := func(f string) int {
			r, err := os.Open(f)
			if err != nil {
				return 0
			}
			defer r.Close()
			c, err := jpeg.DecodeConfig(r)
			if err != nil {
				return 0
			}
			return c.Width * c.Height
		}
		slices.SortStableFunc(files, func(a, b string) int { return pixels(a) - pixels(b) })
		files = files[:min(3, len(files))]
		t.Logf("-short or -race: checking only %v", files)
	}
	const q = 85
	var rows []string
	var tStd, tBase, tProg, tOpt int
	var dStd, dOpt, dProg time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		ref := rgbPix(src)
		measure := func(enc func(io.Writer) error) (int, float64, time.Duration) {
			var buf bytes.Buffer
			start := time.Now()
			if err := enc(&buf); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			p, _, _ := diffStats(ref, rgbPix(decode(t, buf.Bytes())))
			return buf.Len(), p, d
		}
		nStd, pStd, ds := measure(func(w io.Writer) error { return jpeg.Encode(w, src, &jpeg.Options{Quality: q}) })
		nBase, pBase, _ := measure(func(w io.Writer) error { return Encode(bgCtx, w, src, &Options{Quality: q}) })
		nOpt, pOpt, do := measure(func(w io.Writer) error {
			return Encode(bgCtx, w, src, &Options{Quality: q, OptimizeHuffman: true})
		})
		nProg, pProg, dp := measure(func(w io.Writer) error { return Encode(bgCtx, w, src, &Options{Quality: q, Progressive: true}) })
		if pBase != pOpt || pBase != pProg {
			t.Errorf("%s: our three files decode differently (PSNR %.3f, %.3f, %.3f)", f, pBase, pOpt, pProg)
		}
		tStd, tBase, tOpt, tProg = tStd+nStd, tBase+nBase, tOpt+nOpt, tProg+nProg
		dStd, dOpt, dProg = dStd+ds, dOpt+do, dProg+dp
		b := src.Bounds()
		rows = append(rows, fmt.Sprintf("| %s | %dx%d | %d | %.2f | %d | %d (%+.1f%%) | %.2f | %d (%+.1f%%) | %.2f |",
			filepath.Base(f), b.Dx(), b.Dy(), nStd, pStd, nBase, nOpt, pct(nOpt, nStd), pOpt, nProg, pct(nProg, nStd), pProg))
		for _, c := range []struct {
			name string
			n    int
			p    float64
		}{{"baseline+optimised", nOpt, pOpt}, {"progressive", nProg, pProg}} {
			if c.n > nStd {
				t.Errorf("%s %s: %d bytes > image/jpeg's %d", filepath.Base(f), c.name, c.n, nStd)
			}
			if c.p < pStd-0.3 || c.p > pStd+0.3 {
				t.Errorf("%s %s: PSNR %.2f dB vs image/jpeg's %.2f dB", filepath.Base(f), c.name, c.p, pStd)
			}
		}
	}
	t.Logf("quality %d, 4:2:0; PSNR in dB against the decoded original\n"+
		"| file | size | stdlib bytes | stdlib PSNR | ours baseline (std tables) | ours baseline+opt | PSNR | ours progressive | PSNR |\n"+
		"|---|---|---|---|---|---|---|---|---|\n%s\n| total | | %d | | %d | %d (%+.1f%%) | | %d (%+.1f%%) | |\n"+
		"encode time: stdlib %v, ours baseline+opt %v, ours progressive %v",
		q, strings.Join(rows, "\n"), tStd, tBase, tOpt, pct(tOpt, tStd), tProg, pct(tProg, tStd),
		dStd.Round(time.Millisecond), dOpt.Round(time.Millisecond), dProg.Round(time.Millisecond))
}

// pct is the relative difference of a from b in percent.
func pct(a, b int) float64 { return 100 * float64(a-b) / float64(b) }
