package imageopto

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// svgDoc is what checkSVG found in an SVG document.
type svgDoc struct {
	mime  string      // of the embedded image
	image image.Image // the embedded image, decoded
}

// checkSVG parses an SVG document strictly with encoding/xml and checks
// its whole shape: exactly <svg> with one <image>, every attribute from a
// fixed list (so no event handler, script or style can hide in it), no
// directive or processing instruction (no DOCTYPE, no entity), the size
// attributes (width and height only without viewbox=1), and an embedded
// data: image of exactly w×h pixels.
func checkSVG(t *testing.T, data []byte, w, h int, viewBox bool) svgDoc {
	t.Helper()
	const ns = "http://www.w3.org/2000/svg"
	size := fmt.Sprintf("0 0 %d %d", w, h)
	want := map[string]map[string]string{
		"svg":   {"xmlns": ns, "width": fmt.Sprint(w), "height": fmt.Sprint(h), "viewBox": size},
		"image": {"width": fmt.Sprint(w), "height": fmt.Sprint(h), "href": ""},
	}
	if viewBox {
		delete(want["svg"], "width")
		delete(want["svg"], "height")
	}
	var doc svgDoc
	var elements []string
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	for depth := 0; ; {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			name := tok.Name.Local
			elements = append(elements, name)
			assert.Equal(t, ns, tok.Name.Space, "element %s in the SVG namespace", name)
			attrs, ok := want[name]
			require.True(t, ok, "unexpected element <%s>", name)
			got := map[string]string{}
			for _, a := range tok.Attr {
				key := a.Name.Local
				if a.Name.Space != "" && a.Name.Space != "xmlns" {
					key = a.Name.Space + ":" + key
				}
				assert.False(t, strings.HasPrefix(strings.ToLower(key), "on"), "event attribute %s", key)
				got[key] = a.Value
			}
			href := got["href"]
			if name == "image" {
				got["href"] = ""
			}
			assert.Equal(t, attrs, got, "attributes of <%s>", name)
			if name == "image" {
				m := regexp.MustCompile(`^data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)$`).FindStringSubmatch(href)
				require.NotNil(t, m, "href is a base64 data: URI of a PNG or JPEG: %.60q", href)
				raw, err := base64.StdEncoding.DecodeString(m[2])
				require.NoError(t, err)
				doc.mime = m[1]
				if doc.mime == "image/png" {
					doc.image, err = png.Decode(bytes.NewReader(raw))
				} else {
					doc.image, err = jpeg.Decode(bytes.NewReader(raw))
				}
				require.NoError(t, err, "the embedded %s decodes", doc.mime)
				assert.Equal(t, image.Pt(w, h), doc.image.Bounds().Size(), "embedded image at the output size")
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			assert.Empty(t, strings.TrimSpace(string(tok)), "no text content")
		case xml.ProcInst, xml.Directive, xml.Comment:
			t.Errorf("unexpected %T %q", tok, tok)
		}
	}
	assert.Equal(t, []string{"svg", "image"}, elements)
	return doc
}

// alphaQuadrants is quadrants with an alpha ramp from left to right.
func alphaQuadrants(w, h int) *image.NRGBA {
	img := quadrants(w, h)
	for y := range h {
		for x := range w {
			img.Pix[img.PixOffset(x, y)+3] = uint8(40 + 215*x/max(w-1, 1))
		}
	}
	return img
}

// TestSVGOutput: format=svg wraps the result in an SVG document whose
// embedded image is JPEG for a photo and PNG for flat graphics or alpha;
// viewbox=1 drops the size attributes.
func TestSVGOutput(t *testing.T) {
	t.Parallel()
	photo := encodeJPEG(t, texturedPhoto(600, 400), 90, 0)
	flat := encodePNG(t, quadrants(200, 100))
	alpha := encodePNG(t, alphaQuadrants(200, 100))
	cases := []struct {
		name    string
		data    []byte
		query   string
		w, h    int
		viewBox bool
		mime    string
	}{
		{"photo", photo, "format=svg&width=300", 300, 200, false, "image/jpeg"},
		{"photo, viewbox", photo, "format=svg&width=1000&viewbox=1", 600, 400, true, "image/jpeg"},
		{"photo, bw", photo, "format=svg&width=300&bw=threshold", 300, 200, false, "image/png"},
		{"flat graphic", flat, "format=svg", 200, 100, false, "image/png"},
		{"flat graphic, viewbox", flat, "format=svg&viewbox=1&height=50", 100, 50, true, "image/png"},
		{"alpha", alpha, "format=svg&width=100", 100, 50, false, "image/png"},
		{"alpha flattened", alpha, "format=svg&width=100&bg-color=fff", 100, 50, false, "image/png"},
		{"optimize ignored", photo, "format=svg&width=30&optimize=high", 30, 20, false, "image/jpeg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			res, err := TransformBytes(context.Background(), c.data, p, nil)
			require.NoError(t, err)
			assert.Equal(t, "image/svg+xml", res.ContentType)
			assert.Equal(t, ImageInfo{Format: SVG, Width: c.w, Height: c.h, Bytes: int64(len(res.Data))}, res.Output)
			doc := checkSVG(t, res.Data, c.w, c.h, c.viewBox)
			assert.Equal(t, c.mime, doc.mime)
			_, _, _, a := doc.image.At(0, c.h/2).RGBA()
			assert.Equal(t, c.name == "alpha", a < 0xffff, "alpha kept exactly when the result has it")
			// Red stays red in the top-left quadrant of the graphics.
			if bytes.Equal(c.data, flat) {
				r, g, b, _ := doc.image.At(c.w/4, c.h/4).RGBA()
				assert.Equal(t, [3]uint32{0xffff, 0, 0}, [3]uint32{r, g, b})
			}
		})
	}
}

// TestSVGChoosesSmaller: an opaque image embeds whichever of JPEG and PNG is
// smaller; the PNG encoder gives up once it passes the JPEG's size.
func TestSVGChoosesSmaller(t *testing.T) {
	t.Parallel()
	for _, img := range []*image.NRGBA{texturedPhoto(300, 200), quadrants(300, 200), smoothPhoto(64, 64)} {
		var j, p bytes.Buffer
		require.NoError(t, writeJPEG(context.Background(), &j, img, EncodeOptions{Quality: 85}))
		require.NoError(t, writePNG(context.Background(), &p, img, EncodeOptions{}))
		want := "image/png"
		if j.Len() < p.Len() {
			want = "image/jpeg"
		}
		var out bytes.Buffer
		require.NoError(t, writeSVG(context.Background(), &out, img, EncodeOptions{Quality: 85}))
		doc := checkSVG(t, out.Bytes(), img.Rect.Dx(), img.Rect.Dy(), false)
		assert.Equal(t, want, doc.mime, "JPEG %d bytes, PNG %d bytes", j.Len(), p.Len())
		assert.Less(t, out.Len(), min(j.Len(), p.Len())*4/3+300, "the smaller one, in base64, and little else")
	}
}

// TestSVGStops: the SVG encoder returns soon after its context is done.
func TestSVGStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := writeSVG(ctx, io.Discard, texturedPhoto(400, 400), EncodeOptions{Quality: 85})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestSVGHandler: the handler serves SVG with its media type, and viewbox
// without format=svg is ignored with a warning.
func TestSVGHandler(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)}), nil)
	w := get(h, "/a.png?format=svg&width=100")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "image/svg+xml", w.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Contains(t, w.Header().Get("Imageopto-Info"), "ofmt=svg")
	checkSVG(t, w.Body.Bytes(), 100, 50, false)

	w = get(h, "/a.png?viewbox=1&width=100")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "image/png", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Imageopto-Warning"), "viewbox ignored")

	// SVG sources are still refused: SVG is written, never read.
	h = newTestHandler(t, newFakeOrigin(map[string][]byte{"a.svg": []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>`)}), nil)
	svg := get(h, "/a.svg?format=svg")
	assert.Equal(t, http.StatusUnsupportedMediaType, svg.Code)
}

// TestSVGInChromium: the documents render at the output size in headless
// Chromium (skipped without it): the sized one has that natural size, the
// viewbox=1 one fills its container at the image's proportions, and the
// embedded pixels are drawn.
func TestSVGInChromium(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (Debian package chromium)")
	}
	origin := newFakeOrigin(map[string][]byte{
		"photo.jpg": encodeJPEG(t, texturedPhoto(600, 400), 90, 0),
		"flat.png":  samplePNG(t), // 200×100 quadrants
	})
	mux := http.NewServeMux()
	mux.Handle("/img/", http.StripPrefix("/img", newTestHandler(t, origin, nil)))
	mux.HandleFunc("/page", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><html><body style="margin:0">
<img id="a" src="/img/photo.jpg?format=svg&width=300">
<div style="width:500px"><img id="b" style="width:100%" src="/img/flat.png?format=svg&width=100&viewbox=1"></div>
<script>
addEventListener('load', () => {
  const a = document.getElementById('a'), b = document.getElementById('b');
  const r = b.getBoundingClientRect();
  const c = document.createElement('canvas');
  c.width = 500; c.height = 250;
  const x = c.getContext('2d');
  x.drawImage(b, 0, 0, 500, 250);
  const px = (i, j) => Array.from(x.getImageData(i, j, 1, 1).data.slice(0, 3)).join(',');
  document.body.setAttribute('data-result',
    a.naturalWidth + 'x' + a.naturalHeight + ' ' + r.width + 'x' + r.height + ' ' + px(100, 50) + ' ' + px(400, 200));
});
</script></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", srv.URL+"/page")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	m := regexp.MustCompile(`data-result="([^"]*)"`).FindSubmatch(out)
	require.NotNil(t, m, "no result in the page: %s\n%s", out, stderr.String())
	// 300×200 natural size; 500 px wide container → 500×250; red at the
	// top left, yellow at the bottom right.
	assert.Equal(t, "300x200 500x250 255,0,0 255,255,0", string(m[1]))
}
