// Package examples ships Warroom's example configuration inside the binary,
// so that the demo runs on the same file that users copy.
package examples

import _ "embed"

// Config is examples/warroom.yaml, the documented example configuration.
//
//go:embed warroom.yaml
var Config []byte
