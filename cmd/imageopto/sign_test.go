package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignCommand: URLs signed by "imageopto sign" are served by a server
// started with the same -sign-key; unsigned ones get 403.
func TestSignCommand(t *testing.T) {
	const key = "a-test-key-of-32-bytes-or-so-123"
	var out bytes.Buffer
	if err := run(context.Background(), []string{"sign", "-key", key, "-expires", "1h", "http://h/landscape.jpg?width=120"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	signed := strings.TrimSpace(out.String())
	if !strings.Contains(signed, "s=") || !strings.Contains(signed, "expires=") {
		t.Fatalf("signed URL %q", signed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-sign-key", key}, io.Discard, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	path := signed[strings.Index(signed, "/landscape.jpg"):]
	for target, want := range map[string]int{path: 200, "/landscape.jpg?width=120": 403, "/landscape.jpg?width=121" + path[strings.Index(path, "&"):]: 403} {
		resp, err := http.Get("http://" + addr + target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", target, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"sign", "-key", "short", "http://h/a.jpg"}, io.Discard, nil); err == nil {
		t.Error("a short key must be refused")
	}
}
