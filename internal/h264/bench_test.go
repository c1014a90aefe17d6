package h264

import (
	"context"
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
