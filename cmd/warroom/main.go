// Command warroom is Warroom's single binary: the server, the CLI and an
// offline demo.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
