package cluster_test

import (
	"fmt"

	"github.com/imageopto/imageopto/cluster"
)

// ParsePeers reads the server command's -peers value: a static list, or a
// DNS name whose addresses are the members.
func ExampleParsePeers() {
	for _, v := range []string{"http://10.0.0.7:8080,http://10.0.0.8:8080", "dns:imageopto.default.svc", "ftp://x:1"} {
		src, err := cluster.ParsePeers(v, 8080)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		switch s := src.(type) {
		case cluster.Static:
			fmt.Println("static:", []string(s))
		case *cluster.DNS:
			fmt.Printf("dns: %s port %d, every %v\n", s.Name, s.Port, s.Interval())
		}
	}
	// Output:
	// static: [http://10.0.0.7:8080 http://10.0.0.8:8080]
	// dns: imageopto.default.svc port 8080, every 5s
	// error: cluster: -peers: peer URL "ftp://x:1": scheme must be http or https
}
