package vp8enc

import (
	"bytes"
	"context"
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
