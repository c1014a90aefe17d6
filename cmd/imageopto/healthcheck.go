package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// runHealthcheck is "imageopto healthcheck [URL]": it asks the server's
// /healthz and succeeds on 200. It exists for container HEALTHCHECKs in
// images without curl (FROM scratch). The default URL is /healthz on
// loopback at the port of $IMAGEOPTO_ADDR (default 8080).
func runHealthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 1 {
		return &usageError{fmt.Errorf("usage: imageopto healthcheck [URL]")}
	}
	target := "http://" + net.JoinHostPort("127.0.0.1", healthPort(os.Getenv("IMAGEOPTO_ADDR"))) + "/healthz"
	if len(args) == 1 {
		target = args[0]
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", target, resp.Status, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}

// healthPort is the port of a listen address, 8080 when it has none.
func healthPort(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "" {
		return port
	}
	return "8080"
}
