//go:build unix

package runner

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with pid exists (one of another
// user counts: signalling it is refused, not unknown).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
