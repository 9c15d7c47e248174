package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var build struct {
	once sync.Once
	dir  string // the temporary directory that holds the binary
	bin  string
	err  error
}

// Binary returns the path of the warroom binary, building it the first
// time: `go build -o <tmp>/warroom ./cmd/warroom` with CGO_ENABLED=0 in
// the module root that `go env GOMOD` names (the binary is never built
// with -race). A build failure fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.bin, build.err = buildBinary() })
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func buildBinary() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("e2e: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("e2e: not inside the warroom module (go env GOMOD is %q)", mod)
	}
	build.dir, err = os.MkdirTemp("", "warroom-e2e-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(build.dir, "warroom")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/warroom")
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: building warroom: %v\n%s", err, out)
	}
	return bin, nil
}

// Main runs the package's tests and then removes the binary Binary built.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { e2e.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}
