package vp8enc

import (
	"bytes"
	"context"
	"image"
	"testing"

	"golang.org/x/image/webp"
)

// FuzzEncode encodes random small images at random quantisers (the first
// bytes choose width, height, quantiser and filter; the rest are the
// samples, repeated) and checks that x/image/webp decodes them to the
// encoder's reconstruction (loop filter off), or decodes them at all (on).
func FuzzEncode(f *testing.F) {
	f.Add([]byte{3, 5, 40, 0, 1, 2, 3, 200, 100})
	f.Add([]byte{31, 17, 127, 1, 255, 0, 255, 0})
	f.Add([]byte{0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 5 {
			return
		}
		w, h := 1+int(data[0])%48, 1+int(data[1])%48
		q, filter := 1+int(data[2])%127, int(data[3])%64
		pix := data[4:]
		cw, ch := (w+1)/2, (h+1)/2
		p := &Planes{W: w, H: h, YStride: w, CStride: cw,
			Y: make([]uint8, w*h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
		k := 0
		for _, pl := range [][]uint8{p.Y, p.Cb, p.Cr} {
			for i := range pl {
				pl[i] = pix[k%len(pix)] ^ uint8(k/len(pix))
				k++
			}
		}
		o := &Options{QIndex: q, FilterLevel: filter}
		if filter == 0 {
			o.FilterLevel = -1
		}
		frame, rec, err := EncodeFrame(context.Background(), p, o, true)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := writeContainer(&buf, frame); err != nil {
			t.Fatal(err)
		}
		if filter != 0 {
			if _, err := webp.Decode(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatalf("%dx%d q%d filter %d: %v", w, h, q, filter, err)
			}
			return
		}
		if err := samePlanes(decodeGo(t, buf.Bytes()), rec); err != nil {
			t.Fatalf("%dx%d q%d: %v", w, h, q, err)
		}
	})
}

// FuzzAlpha encodes random small transparent images (the first two bytes
// choose the size, the rest are the alpha values, repeated with runs) and
// checks that x/image/webp decodes their alpha exactly.
func FuzzAlpha(f *testing.F) {
	f.Add([]byte{3, 5, 0, 255, 255, 255, 7})
	f.Add([]byte{40, 2, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w, h := 1+int(data[0])%64, 1+int(data[1])%64
		a := data[2:]
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range w * h {
			img.Pix[4*i] = uint8(i)
			img.Pix[4*i+3] = a[(i/3)%len(a)] // runs of three
		}
		var buf bytes.Buffer
		if err := EncodeNRGBA(context.Background(), &buf, img, &Options{Quality: 50}); err != nil {
			t.Fatal(err)
		}
		m, err := webp.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%dx%d: %v", w, h, err)
		}
		if Opaque(img) {
			return
		}
		na, ok := m.(*image.NYCbCrA)
		if !ok {
			t.Fatalf("%dx%d: decoded %T", w, h, m)
		}
		for i := range w * h {
			if g, want := na.A[(i/w)*na.AStride+i%w], img.Pix[4*i+3]; g != want {
				t.Fatalf("%dx%d: alpha %d = %d, want %d", w, h, i, g, want)
			}
		}
	})
}
