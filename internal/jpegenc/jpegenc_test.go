package jpegenc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/imageopto/imageopto/internal/quality"
)

var roundTripSizes = [][2]int{
	{1, 1}, {7, 9}, {8, 8}, {16, 16}, {17, 33}, {33, 17}, {15, 1}, {1, 23}, {31, 47}, {101, 67}, {640, 480},
}

var roundTripQualities = []int{1, 10, 50, 85, 100}

// minPSNR is the least acceptable PSNR of a decoded photo-like image by
// quality, for images of at least 640×480 and for smaller ones (whose 4:2:0
// error is dominated by the chroma subsampling of the sharp colour edges).
var minPSNR = map[int][2]float64{
	1:   {20, 12},
	10:  {26, 14},
	50:  {32, 15},
	85:  {34, 17},
	100: {38, 18},
}

// sourceKinds builds the source images of the round-trip test from a
// photo-like NRGBA image.
var sourceKinds = []struct {
	name string
	make func(*image.NRGBA) image.Image
}{
	{"NRGBA", func(m *image.NRGBA) image.Image { return m }},
	{"YCbCr420", func(m *image.NRGBA) image.Image { return toYCbCr(m, image.YCbCrSubsampleRatio420) }},
	{"YCbCr444", func(m *image.NRGBA) image.Image { return toYCbCr(m, image.YCbCrSubsampleRatio444) }},
	{"Gray", func(m *image.NRGBA) image.Image { return toGray(m) }},
}

// TestRoundTrip encodes photo-like images of many sizes from every fast-path
// source type in every mode, decodes them with image/jpeg and checks the
// size, the fidelity (PSNR above a floor, increasing with quality), that
// progressive and optimised output decode to exactly the pixels of plain
// baseline output (they carry the same coefficients), and that the files
// are valid enough for image/jpeg.
func TestRoundTrip(t *testing.T) {
	for _, sz := range roundTripSizes {
		w, h := sz[0], sz[1]
		photo := photoLike(w, h, uint64(w*1000+h))
		for _, src := range sourceKinds {
			m := src.make(photo)
			ref := rgbPix(m)
			for _, sub := range []Subsampling{S420, S444} {
				if src.name == "Gray" && sub == S444 {
					continue // subsampling does not apply
				}
				t.Run(fmt.Sprintf("%dx%d/%s/%v", w, h, src.name, sub), func(t *testing.T) {
					prev := map[string]float64{}
					for _, q := range roundTripQualities {
						var basePix []byte
						for _, mode := range []struct {
							name string
							o    Options
						}{
							{"baseline", Options{Quality: q, Subsampling: sub}},
							{"optimized", Options{Quality: q, Subsampling: sub, OptimizeHuffman: true}},
							{"progressive", Options{Quality: q, Subsampling: sub, Progressive: true}},
						} {
							data := encode(t, m, &mode.o)
							d := decode(t, data)
							if got := d.Bounds().Size(); got != image.Pt(w, h) {
								t.Fatalf("q%d %s: decoded size %v, want %dx%d", q, mode.name, got, w, h)
							}
							_, isGray := d.(*image.Gray)
							if isGray != (src.name == "Gray") {
								t.Errorf("q%d %s: decoded as %T", q, mode.name, d)
							}
							pix := rgbPix(d)
							if basePix == nil {
								basePix = pix
							} else if !bytes.Equal(pix, basePix) {
								t.Errorf("q%d %s: decodes differently from baseline", q, mode.name)
							}
							p, _, _ := diffStats(ref, pix)
							floor := minPSNR[q][1]
							if w*h >= 640*480 {
								floor = minPSNR[q][0]
							}
							if p < floor {
								t.Errorf("q%d %s: PSNR %.2f dB < %.0f", q, mode.name, p, floor)
							}
							if last, ok := prev[mode.name]; ok && p < last-0.05 {
								t.Errorf("q%d %s: PSNR %.2f dB below the %.2f dB of the lower quality", q, mode.name, p, last)
							}
							prev[mode.name] = p
						}
					}
				})
			}
		}
	}
}

// TestSSIMIncreasesWithQuality checks the structural similarity of a
// 640×480 photo-like image across qualities.
func TestSSIMIncreasesWithQuality(t *testing.T) {
	m := photoLike(640, 480, 7)
	ref := quality.LumaOver(m, 0)
	last := 0.0
	for _, q := range roundTripQualities {
		for _, o := range []Options{{Quality: q}, {Quality: q, Progressive: true, Subsampling: S444}} {
			s := quality.LumaSSIM(ref, quality.LumaOver(decode(t, encode(t, m, &o)), 0), 640, 480)
			t.Logf("%+v: SSIM %.4f", o, s)
			if o.Subsampling == S420 {
				if s < last {
					t.Errorf("q%d: SSIM %.4f below %.4f of the lower quality", q, s, last)
				}
				last = s
			}
		}
	}
	if last < 0.98 {
		t.Errorf("SSIM at q100 = %.4f, want ≥ 0.98", last)
	}
}

// TestMatchesStdlib compares our plain baseline 4:2:0 output with
// image/jpeg's at the same quality: the same colour conversion, chroma
// averaging and quantisation tables mean that the decoded images differ
// only where a coefficient rounds differently between the two DCTs.
func TestMatchesStdlib(t *testing.T) {
	for _, sz := range [][2]int{{7, 9}, {17, 33}, {101, 67}, {640, 480}} {
		m := photoLike(sz[0], sz[1], 3)
		rgba := stdlibInput(m)
		for _, q := range roundTripQualities {
			ours := rgbPix(decode(t, encode(t, m, &Options{Quality: q})))
			std := rgbPix(decode(t, encodeStd(t, rgba, q)))
			p, mean, maxd := diffStats(std, ours)
			if p < 40 || mean > 1 {
				t.Errorf("%v q%d: ours vs image/jpeg: PSNR %.2f dB, mean |Δ| %.3f, max %d", sz, q, p, mean, maxd)
			}
			ref := rgbPix(m)
			po, _, _ := diffStats(ref, ours)
			ps, _, _ := diffStats(ref, std)
			if po < ps-0.1 {
				t.Errorf("%v q%d: our PSNR %.2f dB vs image/jpeg's %.2f dB", sz, q, po, ps)
			}
		}
	}
}

// TestQuantTablesMatchStdlib checks our quality scaling against the DQT
// segment image/jpeg writes, for every quality.
func TestQuantTablesMatchStdlib(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for q := 1; q <= 100; q++ {
		std := dqtTables(t, encodeStd(t, m, q))
		ours := dqtTables(t, encode(t, m, &Options{Quality: q}))
		if !slices.Equal(std, ours) {
			t.Fatalf("q%d: DQT tables differ:\nstdlib %v\nours   %v", q, std, ours)
		}
	}
	if q50 := scaleQuant(&baseQuant[0], 50); q50 != baseQuant[0] {
		t.Errorf("quality 50 should give the Annex K table, got %v", q50)
	}
	for i, v := range scaleQuant(&baseQuant[1], 100) {
		if v != 1 {
			t.Fatalf("quality 100: entry %d is %d, want 1", i, v)
		}
	}
}

// segment is a marker segment of a JPEG file.
type segment struct {
	marker byte
	data   []byte // payload after the length field
	end    int    // offset in the file just past the segment
}

// segments splits a JPEG file into its marker segments, skipping
// entropy-coded data, and checks the framing.
func segments(t *testing.T, f []byte) []segment {
	t.Helper()
	if len(f) < 4 || f[0] != 0xff || f[1] != 0xd8 {
		t.Fatalf("no SOI")
	}
	if f[len(f)-2] != 0xff || f[len(f)-1] != 0xd9 {
		t.Fatalf("no EOI at the end")
	}
	var segs []segment
	for i := 2; i+4 <= len(f); {
		if f[i] != 0xff {
			// Entropy-coded data: skip to the next marker that is not a
			// stuffed byte or a restart marker.
			i++
			continue
		}
		mk := f[i+1]
		if mk == 0 || mk == 0xff || (mk >= 0xd0 && mk <= 0xd7) {
			i++
			continue
		}
		if mk == 0xd9 {
			break
		}
		n := int(f[i+2])<<8 | int(f[i+3])
		segs = append(segs, segment{mk, f[i+4 : i+2+n], i + 2 + n})
		i += 2 + n
	}
	return segs
}

// dqtTables returns the quantisation table entries of a JPEG file.
func dqtTables(t *testing.T, f []byte) []byte {
	var out []byte
	for _, s := range segments(t, f) {
		if s.marker != 0xdb {
			continue
		}
		for d := s.data; len(d) >= 65; d = d[65:] {
			out = append(out, d[:65]...)
		}
	}
	return out
}

// TestFileStructure checks the markers: JFIF APP0 first, then DQT, the
// right SOF, Huffman tables before each Huffman-coded scan, and the
// number of scans.
func TestFileStructure(t *testing.T) {
	m := photoLike(40, 30, 5)
	for _, c := range []struct {
		img   image.Image
		o     Options
		sof   byte
		scans int
	}{
		{m, Options{}, 0xc0, 1},
		{m, Options{OptimizeHuffman: true}, 0xc0, 1},
		{m, Options{Progressive: true}, 0xc2, 10},
		{m, Options{Progressive: true, Subsampling: S444}, 0xc2, 10},
		{toGray(m), Options{}, 0xc0, 1},
		{toGray(m), Options{Progressive: true}, 0xc2, 6},
	} {
		f := encode(t, c.img, &c.o)
		segs := segments(t, f)
		if segs[0].marker != 0xe0 || !bytes.HasPrefix(segs[0].data, []byte("JFIF\x00\x01\x01")) {
			t.Errorf("%+v: first segment is %#x %q, want JFIF APP0", c.o, segs[0].marker, segs[0].data)
		}
		var sof byte
		scans, dhtSinceScan := 0, false
		for _, s := range segs {
			switch s.marker {
			case 0xc0, 0xc1, 0xc2:
				sof = s.marker
				wantComps := 3
				if _, ok := c.img.(*image.Gray); ok {
					wantComps = 1
				}
				if int(s.data[5]) != wantComps {
					t.Errorf("%+v: %d components", c.o, s.data[5])
				}
			case 0xc4:
				dhtSinceScan = true
			case 0xda:
				scans++
				ss, ah := s.data[len(s.data)-3], s.data[len(s.data)-1]>>4
				dcRefine := ss == 0 && ah > 0
				if !dhtSinceScan && !dcRefine {
					t.Errorf("%+v: scan %d has no DHT before it", c.o, scans)
				}
				dhtSinceScan = false
			}
		}
		if sof != c.sof || scans != c.scans {
			t.Errorf("%+v: SOF %#x with %d scans, want %#x with %d", c.o, sof, scans, c.sof, c.scans)
		}
	}
}

// TestRGBToYCbCrMatchesStdlib compares the colour conversion with
// image/color's over a dense sample of the RGB cube (all of it without
// -short).
func TestRGBToYCbCrMatchesStdlib(t *testing.T) {
	step := 1
	if testing.Short() || raceEnabled {
		step = 3
	}
	for r := 0; r < 256; r += step {
		for g := 0; g < 256; g += step {
			for b := 0; b < 256; b++ {
				y, cb, cr := rgbToYCbCr(int32(r), int32(g), int32(b))
				y2, cb2, cr2 := color.RGBToYCbCr(uint8(r), uint8(g), uint8(b))
				if y != y2 || cb != cb2 || cr != cr2 {
					t.Fatalf("RGB(%d,%d,%d): got %d,%d,%d want %d,%d,%d", r, g, b, y, cb, cr, y2, cb2, cr2)
				}
			}
		}
	}
}

// refCos[x][u] is cos((2x+1)uπ/16).
var refCos = func() (c [8][8]float64) {
	for x := range 8 {
		for u := range 8 {
			c[x][u] = math.Cos(float64((2*x+1)*u) * math.Pi / 16)
		}
	}
	return c
}()

// refDCT is the 2-D DCT of T.81 A.3.3 computed directly in float64.
func refDCT(s *[64]float64) (out [64]float64) {
	for u := range 8 {
		for v := range 8 {
			var sum float64
			for y := range 8 {
				for x := range 8 {
					sum += s[y*8+x] * refCos[x][v] * refCos[y][u]
				}
			}
			cu, cv := 1.0, 1.0
			if u == 0 {
				cu = 1 / math.Sqrt2
			}
			if v == 0 {
				cv = 1 / math.Sqrt2
			}
			out[u*8+v] = cu * cv * sum / 4
		}
	}
	return out
}

// TestFDCTAccuracy compares the float32 AAN DCT as fdctQuant uses it (level
// shift after the transform, output scaling removed) to the direct float64
// definition on random and extreme blocks.
func TestFDCTAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for i := range 2000 {
		var in [64]float64
		var blk [64]float32
		for k := range in {
			var v int
			switch i % 4 {
			case 0:
				v = r.IntN(256)
			case 1:
				v = 255 * r.IntN(2) // extreme, checkerboard-like
			case 2:
				v = 128 + int(60*math.Sin(float64(k)*0.3)) + r.IntN(9)
			default:
				v = (k%8*31 + k/8*17) % 256
			}
			in[k] = float64(v - 128)
			blk[k] = float32(v) // fdctQuant applies the level shift after the DCT
		}
		want := refDCT(&in)
		fdct2(&blk)
		blk[0] -= 64 * 128
		for k := range 64 {
			got := float64(blk[k]) / (8 * aanScale[k>>3] * aanScale[k&7])
			worst = max(worst, math.Abs(got-want[k]))
		}
	}
	t.Logf("largest error of the float32 AAN DCT: %.2g coefficient units", worst)
	if worst > 1e-3 {
		t.Errorf("largest DCT error %.3g, want < 1e-3", worst)
	}
}

// TestFDCTVersusStdlib measures the DCT against image/jpeg's at quality
// 100, where all quantisers are 1 and the DCT's accuracy decides the
// fidelity: greyscale images go through both encoders and the same decoder.
func TestFDCTVersusStdlib(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *image.Gray
	}{
		{"photo", toGray(photoLike(256, 256, 11))},
		{"noise", toGray(noiseImage(256, 256, 12))},
	} {
		ref := rgbPix(c.m)
		ours, _, _ := diffStats(ref, rgbPix(decode(t, encode(t, c.m, &Options{Quality: 100}))))
		std, _, _ := diffStats(ref, rgbPix(decode(t, encodeStd(t, c.m, 100))))
		t.Logf("%s q100: PSNR ours %.2f dB, image/jpeg %.2f dB", c.name, ours, std)
		if ours < std {
			t.Errorf("%s: our q100 PSNR %.2f dB is below image/jpeg's %.2f dB", c.name, ours, std)
		}
	}
}

// TestSmallerThanStdlib checks that optimised baseline and progressive
// output are smaller than image/jpeg's at the same quality, with the same
// fidelity.
func TestSmallerThanStdlib(t *testing.T) {
	for seed := range uint64(3) {
		m := photoLike(400+int(seed)*37, 300+int(seed)*11, 100+seed)
		ref := rgbPix(m)
		for _, q := range []int{30, 50, 75, 85, 95} {
			std := encodeStd(t, stdlibInput(m), q)
			ps, _, _ := diffStats(ref, rgbPix(decode(t, std)))
			for _, o := range []Options{{Quality: q, OptimizeHuffman: true}, {Quality: q, Progressive: true}} {
				ours := encode(t, m, &o)
				po, _, _ := diffStats(ref, rgbPix(decode(t, ours)))
				if len(ours) >= len(std) || po < ps-0.1 {
					t.Errorf("seed %d %+v: %d bytes %.2f dB vs image/jpeg %d bytes %.2f dB", seed, o, len(ours), po, len(std), ps)
				}
			}
		}
	}
}

// TestSourceTypes checks that every source representation of the same
// pixels gives the same file as the reference path.
func TestSourceTypes(t *testing.T) {
	photo := photoLike(37, 21, 9)
	rgba := image.NewRGBA(photo.Rect)
	copy(rgba.Pix, photo.Pix)
	opts := []Options{{Quality: 80}, {Quality: 80, Subsampling: S444, Progressive: true}}
	for _, o := range opts {
		want := encode(t, photo, &o)
		for name, m := range map[string]image.Image{
			"RGBA":    rgba,
			"generic": opaqueWrapper{photo},
		} {
			if got := encode(t, m, &o); !bytes.Equal(got, want) {
				t.Errorf("%s %+v: output differs from NRGBA's", name, o)
			}
		}
	}

	// Y′CbCr: every subsampling ratio must give the same file as the same
	// pixels in 4:4:4 form (chroma replicated), because chroma is looked
	// up per pixel and averaged over 2×2 squares for 4:2:0 output. This
	// also checks the raw-plane paths against the per-pixel one.
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		y := toYCbCr(photo, ratio)
		for _, o := range opts {
			got := encode(t, y, &o)
			want := encode(t, upsample444(y), &o)
			if !bytes.Equal(got, want) {
				t.Errorf("%v %+v: differs from the 4:4:4 form", ratio, o)
			}
			nya := &image.NYCbCrA{YCbCr: *y, A: make([]byte, len(y.Y)), AStride: y.YStride}
			if got2 := encode(t, nya, &o); !bytes.Equal(got, got2) {
				t.Errorf("%v %+v: NYCbCrA differs from YCbCr", ratio, o)
			}
			d := decode(t, got)
			if p := psnr(y, d); p < 18 {
				t.Errorf("%v %+v: PSNR %.2f", ratio, o, p)
			}
		}
	}

	// Sub-images at odd offsets take the per-pixel paths.
	big := toYCbCr(photoLike(60, 50, 10), image.YCbCrSubsampleRatio420)
	sub := big.SubImage(image.Rect(3, 5, 40, 44)).(*image.YCbCr)
	for _, o := range opts {
		got := decode(t, encode(t, sub, &o))
		if got.Bounds().Size() != sub.Bounds().Size() {
			t.Fatalf("sub-image decoded as %v", got.Bounds())
		}
		if p := psnr(sub, got); p < 18 {
			t.Errorf("odd sub-image %+v: PSNR %.2f", o, p)
		}
		if !bytes.Equal(encode(t, sub, &o), encode(t, upsample444(sub), &o)) {
			t.Errorf("odd sub-image %+v: differs from its 4:4:4 form", o)
		}
	}
	// A Y′CbCr image at a negative origin follows COffset's pairing.
	neg := toYCbCr(photoLike(20, 18, 12), image.YCbCrSubsampleRatio420)
	neg.Rect = neg.Rect.Add(image.Pt(-6, -4))
	for _, o := range opts {
		if !bytes.Equal(encode(t, neg, &o), encode(t, upsample444(neg), &o)) {
			t.Errorf("negative origin %+v: differs from its 4:4:4 form", o)
		}
	}
	subN := photoLike(60, 50, 10).SubImage(image.Rect(3, 5, 40, 44))
	for _, o := range opts {
		if p := psnr(subN, decode(t, encode(t, subN, &o))); p < 18 {
			t.Errorf("NRGBA sub-image %+v: PSNR %.2f", o, p)
		}
	}

	// Greyscale: Gray16 and a generic grey source.
	g := toGray(photo)
	g16 := image.NewGray16(g.Rect)
	for i, v := range g.Pix {
		g16.Pix[2*i], g16.Pix[2*i+1] = v, 0x5a
	}
	for _, o := range opts {
		want := encode(t, g, &o)
		if got := encode(t, g16, &o); !bytes.Equal(got, want) {
			t.Errorf("Gray16 %+v differs from Gray", o)
		}
		if _, ok := decode(t, want).(*image.Gray); !ok {
			t.Errorf("Gray %+v does not decode as greyscale", o)
		}
	}

	// Other types go through At.
	pal := image.NewPaletted(photo.Rect, palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i * 7)
	}
	cmyk := image.NewCMYK(photo.Rect)
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i * 13)
	}
	for _, m := range []image.Image{pal, cmyk, subImager{image.NewUniform(color.RGBA{10, 200, 30, 255}), image.Rect(0, 0, 19, 11)}} {
		n := image.NewNRGBA(m.Bounds())
		draw.Draw(n, n.Rect, m, m.Bounds().Min, draw.Src)
		for _, o := range opts {
			if !bytes.Equal(encode(t, m, &o), encode(t, n, &o)) {
				t.Errorf("%T %+v: differs from its NRGBA conversion", m, o)
			}
		}
	}
}

// opaqueWrapper hides the concrete type of an image to force the generic
// path.
type opaqueWrapper struct{ image.Image }

// upsample444 returns m with full-resolution chroma, each sample copied
// from the one that covers the pixel.
func upsample444(m *image.YCbCr) *image.YCbCr {
	u := image.NewYCbCr(m.Rect, image.YCbCrSubsampleRatio444)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			i, c := u.YOffset(x, y), m.COffset(x, y)
			u.Y[i], u.Cb[i], u.Cr[i] = m.Y[m.YOffset(x, y)], m.Cb[c], m.Cr[c]
		}
	}
	return u
}

// subImager gives an unbounded image finite bounds.
type subImager struct {
	image.Image
	r image.Rectangle
}

func (s subImager) Bounds() image.Rectangle { return s.r }

func TestOptions(t *testing.T) {
	m := photoLike(30, 20, 4)
	// nil and zero options mean DefaultQuality baseline 4:2:0.
	def := encode(t, m, nil)
	if !bytes.Equal(def, encode(t, m, &Options{})) || !bytes.Equal(def, encode(t, m, &Options{Quality: DefaultQuality})) {
		t.Error("nil, zero and DefaultQuality options differ")
	}
	if !bytes.Equal(encode(t, m, &Options{Quality: -5}), encode(t, m, &Options{Quality: 1})) {
		t.Error("quality below 1 is not clamped to 1")
	}
	if !bytes.Equal(encode(t, m, &Options{Quality: 1000}), encode(t, m, &Options{Quality: 100})) {
		t.Error("quality above 100 is not clamped to 100")
	}
	if err := Encode(bgCtx, &bytes.Buffer{}, m, &Options{Subsampling: 7}); err == nil {
		t.Error("unknown subsampling accepted")
	}
	if err := Encode(bgCtx, &bytes.Buffer{}, image.NewNRGBA(image.Rect(0, 0, 0, 5)), nil); err == nil {
		t.Error("empty image accepted")
	}
	if err := Encode(bgCtx, &bytes.Buffer{}, subImager{image.Black, image.Rect(0, 0, 70000, 1)}, nil); err == nil {
		t.Error("width over 65535 accepted")
	}
	if S420.String() != "4:2:0" || S444.String() != "4:4:4" {
		t.Error("Subsampling.String")
	}
}

// errWriter fails after n bytes.
type errWriter struct{ n int }

var errWrite = errors.New("write failed")

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	m := photoLike(300, 300, 6)
	for _, o := range []Options{{}, {OptimizeHuffman: true}, {Progressive: true}} {
		size := len(encode(t, m, &o))
		for _, n := range []int{0, 100, size / 2, size - 1} {
			if err := Encode(bgCtx, &errWriter{n}, m, &o); !errors.Is(err, errWrite) {
				t.Errorf("%+v, failing after %d bytes: err = %v", o, n, err)
			}
		}
	}
}

// TestLongEOBRuns covers end-of-band runs reaching the 0x7FFF limit (a flat
// image with over 32767 blocks) and correction bits overflowing their
// buffer (with a tiny buffer limit).
func TestLongEOBRuns(t *testing.T) {
	flat := image.NewGray(image.Rect(0, 0, 1600, 1400))
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	flat.Pix[len(flat.Pix)/2] = 200 // one non-flat block in the middle
	d := decode(t, encode(t, flat, &Options{Progressive: true}))
	if p := psnr(flat, d); p < 40 {
		t.Errorf("flat image PSNR %.2f", p)
	}

	old := maxCorrBits
	defer func() { maxCorrBits = old }()
	m := photoLike(200, 120, 8)
	base := rgbPix(decode(t, encode(t, m, &Options{Quality: 90})))
	for _, limit := range []int{0, 1, 7, 100} {
		maxCorrBits = limit
		got := rgbPix(decode(t, encode(t, m, &Options{Quality: 90, Progressive: true})))
		if !bytes.Equal(got, base) {
			t.Errorf("correction-bit limit %d: progressive decodes differently from baseline", limit)
		}
	}
}

// TestRandomImages encodes random images of random sizes with random
// options and checks that image/jpeg decodes them to the right size.
func TestRandomImages(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	n := 300
	if testing.Short() || raceEnabled {
		n = 80
	}
	for i := range n {
		w, h := 1+r.IntN(70), 1+r.IntN(70)
		if i%10 == 0 {
			w, h = 1+r.IntN(400), 1+r.IntN(300)
		}
		var m image.Image
		switch r.IntN(4) {
		case 0:
			m = noiseImage(w, h, r.Uint64())
		case 1:
			m = photoLike(w, h, r.Uint64())
		case 2:
			m = toGray(noiseImage(w, h, r.Uint64()))
		default:
			ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422}
			m = toYCbCr(noiseImage(w, h, r.Uint64()), ratios[r.IntN(len(ratios))])
		}
		o := Options{
			Quality:         1 + r.IntN(100),
			Progressive:     r.IntN(2) == 0,
			Subsampling:     Subsampling(r.IntN(2)),
			OptimizeHuffman: r.IntN(2) == 0,
		}
		data := encode(t, m, &o)
		d, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%T %dx%d %+v: %v", m, w, h, o, err)
		}
		if d.Bounds().Size() != image.Pt(w, h) {
			t.Fatalf("%T %dx%d %+v: decoded %v", m, w, h, o, d.Bounds())
		}
	}
}

// FuzzEncode encodes images built from the fuzzer's bytes.
func FuzzEncode(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint8(0), uint8(50), []byte{1, 2, 3})
	f.Add(uint16(17), uint16(9), uint8(7), uint8(100), []byte{255, 0, 255, 0})
	f.Add(uint16(33), uint16(65), uint8(3), uint8(1), []byte{})
	f.Fuzz(func(t *testing.T, w, h uint16, flags, q uint8, pix []byte) {
		w, h = w%300+1, h%300+1
		var m image.Image
		if flags&4 != 0 {
			g := image.NewGray(image.Rect(0, 0, int(w), int(h)))
			for i := range g.Pix {
				if len(pix) > 0 {
					g.Pix[i] = pix[i%len(pix)] + uint8(i/len(pix))
				}
			}
			m = g
		} else {
			n := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
			for i := range n.Pix {
				if len(pix) > 0 {
					n.Pix[i] = pix[i%len(pix)] ^ uint8(i*31/len(pix))
				}
			}
			m = n
		}
		o := Options{Quality: int(q), Progressive: flags&1 != 0, Subsampling: Subsampling(flags >> 1 & 1), OptimizeHuffman: flags&8 != 0}
		data := encode(t, m, &o)
		d, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%dx%d %+v: %v", w, h, o, err)
		}
		if d.Bounds().Size() != m.Bounds().Size() {
			t.Fatalf("decoded size %v", d.Bounds())
		}
	})
}

// TestEncoderReuse encodes with one encoder in every pair of
// configurations in a row, as the pool does, and compares the second file
// with a fresh encoder's.
func TestEncoderReuse(t *testing.T) {
	type config struct {
		m image.Image
		o Options
	}
	big, mid, small := photoLike(200, 120, 1), photoLike(96, 40, 2), photoLike(33, 17, 3)
	configs := []config{
		{big, Options{Subsampling: S444}},
		{mid, Options{}},
		{small, Options{}},
		{big, Options{Progressive: true}},
		{small, Options{Progressive: true, Subsampling: S444}},
		{toGray(big), Options{Quality: 90}},
		{toGray(small), Options{Progressive: true}},
		{toYCbCr(big, image.YCbCrSubsampleRatio420), Options{OptimizeHuffman: true}},
		{toYCbCr(small, image.YCbCrSubsampleRatio444), Options{Quality: 30, OptimizeHuffman: true}},
	}
	for _, a := range configs {
		for _, b := range configs {
			var reused, fresh encoder
			var out1, out2 bytes.Buffer
			if err := reused.encode(&out1, a.m, &a.o); err != nil {
				t.Fatal(err)
			}
			out1.Reset()
			if err := reused.encode(&out1, b.m, &b.o); err != nil {
				t.Fatal(err)
			}
			if err := fresh.encode(&out2, b.m, &b.o); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out1.Bytes(), out2.Bytes()) {
				t.Errorf("%T %v %+v after %T %v %+v: reused encoder gives a different file",
					b.m, b.m.Bounds(), b.o, a.m, a.m.Bounds(), a.o)
			}
		}
	}
}

// TestConcurrent runs encoders in parallel (they share the encoder pool).
func TestConcurrent(t *testing.T) {
	m := photoLike(120, 90, 13)
	want := map[bool][]byte{false: encode(t, m, &Options{}), true: encode(t, m, &Options{Progressive: true})}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				p := (i+j)%2 == 0
				var buf bytes.Buffer
				if err := Encode(bgCtx, &buf, m, &Options{Progressive: p}); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(buf.Bytes(), want[p]) {
					t.Error("concurrent encode gave a different file")
				}
			}
		})
	}
	wg.Wait()
}
