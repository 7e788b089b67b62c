// Command generate writes the dashboards' JSON and the Prometheus rules into the current
// directory (go generate runs it in dashboards/).
package main

import (
	"fmt"
	"os"

	"github.com/igniter-go/store/dashboards"
)

func main() {
	if err := dashboards.Write("."); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}
