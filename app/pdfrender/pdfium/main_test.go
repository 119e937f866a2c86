package pdfium

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"
)

// One renderer per test binary: starting pdfium compiles (or loads) the
// wasm module, which is the slow part of any test here.
var (
	shared   *Renderer
	docsDir  string
	thumbDir string
)

// wazeroCacheDir survives between test runs so only the first run on a
// machine pays the compilation; wazero keys its entries by its version and
// the module's hash, so a stale entry is never used.
func wazeroCacheDir() string {
	return filepath.Join(os.TempDir(), "expertiza-test-wazero-cache")
}

func TestMain(m *testing.M) {
	if os.Getenv(childRSSEnv) == "1" {
		os.Exit(measureChild(os.Args[1:]))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	docsDir, err = os.MkdirTemp("", "pdfrender-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(docsDir)
	thumbDir = filepath.Join(docsDir, "thumbs")
	shared, err = New(context.Background(), Options{CacheDir: wazeroCacheDir(), ThumbDir: thumbDir, TileCacheBytes: 64 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer shared.Close()
	return m.Run()
}

// fixtures writes each test PDF once per binary.
var fixtures = struct {
	sync.Mutex
	paths map[string]string
}{paths: map[string]string{}}

func fixture(t testing.TB, name string, gen func() []byte) string {
	t.Helper()
	fixtures.Lock()
	defer fixtures.Unlock()
	if p, ok := fixtures.paths[name]; ok {
		return p
	}
	p := filepath.Join(docsDir, name)
	if err := os.WriteFile(p, gen(), 0o600); err != nil {
		t.Fatal(err)
	}
	fixtures.paths[name] = p
	return p
}

func textPDF(t testing.TB) string { return fixture(t, "text.pdf", testpdf.TextDoc) }
func drawingPDF(t testing.TB) string {
	return fixture(t, "drawing.pdf", func() []byte { return testpdf.Drawing(40000) })
}

// scanPDF is a 150 DPI scan for the tests; the benchmarks use the 300 DPI
// one (8.7 MP), whose generation alone is slow under -race.
func scanPDF(t testing.TB) string {
	return fixture(t, "scan150.pdf", func() []byte { return testpdf.Scan(150) })
}
func scan300PDF(t testing.TB) string {
	return fixture(t, "scan300.pdf", func() []byte { return testpdf.Scan(300) })
}

// open opens path in the shared renderer for the test's lifetime.
func open(t testing.TB, path string) *pdfrender.Document {
	t.Helper()
	d, err := shared.Open(context.Background(), path, pdfrender.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := shared.CloseDoc(context.Background(), d.ID); err != nil {
			t.Errorf("close %s: %v", path, err)
		}
	})
	return d
}

// childRSSEnv makes the test binary a small wrapper that runs a command and
// prints its peak RSS. Measured directly from the big test process, a
// child's ru_maxrss would report the parent's: Go starts children with
// vfork, and exec records the shared old address space's high-water mark.
const childRSSEnv = "PDFRENDER_MEASURE_CHILD_RSS"

func measureChild(args []string) int {
	if len(args) == 0 {
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 1
	}
	fmt.Println(ru.Maxrss << 10)
	return 0
}
