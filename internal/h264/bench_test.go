package h264

import (
	"context"
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkEncode codes 640×400 frames of the test pattern (one IDR, then P
// frames).
func BenchmarkEncode(b *testing.B) {
	frames := testFrames(640, 400, 8, 1)
	lvl, _ := LevelByName("5.1")
	e, err := NewEncoder(Config{Width: 640, Height: 400, QP: 18, Level: lvl})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(640 * 400)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := e.Encode(context.Background(), frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeIntra codes 640×400 IDR pictures.
func BenchmarkEncodeIntra(b *testing.B) {
	frames := testFrames(640, 400, 1, 1)
	lvl, _ := LevelByName("5.1")
	e, err := NewEncoder(Config{Width: 640, Height: 400, QP: 18, Level: lvl, KeyInterval: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(640 * 400)
	b.ResetTimer()
	for range b.N {
		if _, _, err := e.Encode(context.Background(), frames[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeNoise codes frames of random noise, the worst case.
func BenchmarkEncodeNoise(b *testing.B) {
	frames := make([]*image.NRGBA, 4)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range frames {
		m := image.NewNRGBA(image.Rect(0, 0, 640, 400))
		for j := range m.Pix {
			m.Pix[j] = uint8(r.IntN(256))
		}
		frames[i] = m
	}
	lvl, _ := LevelByName("5.1")
	e, err := NewEncoder(Config{Width: 640, Height: 400, QP: 10, Level: lvl})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(640 * 400)
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := e.Encode(context.Background(), frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
}
