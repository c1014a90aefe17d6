package vp8dec

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vp8Chunk returns the payload of the "VP8 " chunk of a WebP file.
func vp8Chunk(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, fmt.Errorf("not a WebP file")
	}
	p := data[12:]
	for len(p) >= 8 {
		n := int(binary.LittleEndian.Uint32(p[4:8]))
		if n > len(p)-8 {
			return nil, fmt.Errorf("truncated chunk")
		}
		if string(p[:4]) == "VP8 " {
			return p[8 : 8+n], nil
		}
		p = p[8+n+n&1:]
	}
	return nil, fmt.Errorf("no VP8 chunk")
}

// compareDwebp decodes file with dwebp -yuv and with Decode and reports the
// first differing sample.
func compareDwebp(t *testing.T, file string, opt Options) {
	t.Helper()
	chunk := readChunk(t, file)
	m, err := Decode(context.Background(), chunk, opt)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := filepath.Join(t.TempDir(), "ref.yuv")
	if b, err := exec.Command("dwebp", "-quiet", "-yuv", file, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("dwebp: %v: %s", err, b)
	}
	ref, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	if n := w*h + 2*cw*ch; len(ref) != n && len(ref) != n+w*h { // Y, U, V [, A]
		t.Fatalf("%s: dwebp wrote %d bytes for %dx%d", file, len(ref), w, h)
	}
	planes := []struct {
		name         string
		pix          []byte
		stride, w, h int
		ref          []byte
	}{
		{"Y", m.Y, m.YStride, w, h, ref[:w*h]},
		{"U", m.Cb, m.CStride, cw, ch, ref[w*h : w*h+cw*ch]},
		{"V", m.Cr, m.CStride, cw, ch, ref[w*h+cw*ch : w*h+2*cw*ch]},
	}
	for _, p := range planes {
		for y := 0; y < p.h; y++ {
			got := p.pix[y*p.stride : y*p.stride+p.w]
			want := p.ref[y*p.w : y*p.w+p.w]
			if !bytes.Equal(got, want) {
				for x := range got {
					if got[x] != want[x] {
						t.Fatalf("%s: %s plane differs at (%d,%d) (macroblock %d,%d): got %d, want %d",
							filepath.Base(file), p.name, x, y, x*w/p.w/16, y*h/p.h/16, got[x], want[x])
					}
				}
			}
		}
	}
}
