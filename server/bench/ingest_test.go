package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/server/validate"
)

// bigPDF writes a 500-page PDF of about 300 MB: each page a drawing of
// line segments in an uncompressed content stream, like a scanned-vector
// set of drawings.
func bigPDF(b *testing.B, pages, pageBytes int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "drawings.pdf")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	off := 0
	var offs []int
	put := func(s string) {
		n, _ := w.WriteString(s)
		off += n
	}
	obj := func(body string) {
		offs = append(offs, off)
		put(fmt.Sprintf("%d 0 obj\n%s\nendobj\n", len(offs), body))
	}
	put("%PDF-1.4\n")
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 3+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	var content strings.Builder
	for i := 0; content.Len() < pageBytes; i++ {
		fmt.Fprintf(&content, "%d %d m %d %d l S\n", i%1684, i%2384, (i*7)%1684, (i*13)%2384)
	}
	c := content.String()
	for i := 0; i < pages; i++ {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1684 2384] /Contents %d 0 R >>", 4+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(c), c))
	}
	xref := off
	put(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", len(offs)+1))
	for _, o := range offs {
		put(fmt.Sprintf("%010d 00000 n \n", o))
	}
	put(fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref))
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkIngest: validation and page count of a 300 MB, 500-page PDF in
// the guarded worker process, against poppler's pdfinfo reading the same
// file in the same run; the worker's peak RSS is reported.
func BenchmarkIngest(b *testing.B) {
	mb := 300
	if v, err := strconv.Atoi(os.Getenv("EXPERTIZA_BENCH_INGEST_MB")); err == nil && v > 0 {
		mb = v
	}
	path := bigPDF(b, 500, mb<<20/500)
	fi, _ := os.Stat(path)
	var mu sync.Mutex
	var last *exec.Cmd
	worker := func(ctx context.Context) *exec.Cmd {
		cmd := testenv.ValidateWorker(ctx)
		mu.Lock()
		last = cmd
		mu.Unlock()
		return cmd
	}
	lim := validate.DefaultLimits()
	lim.Documentation = 1 << 30 // the 80 MB default is configurable; this file is 300 MB
	v := validate.New(lim, testenv.Logger(b), worker)
	var ours, ref time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := v.Check(context.Background(), path, "Том 5. Чертежи.pdf")
		if err != nil {
			b.Fatalf("validate %d MB: %v", fi.Size()>>20, err)
		}
		ours += time.Since(start)
		if res.Pages != 500 {
			b.Fatalf("%d pages", res.Pages)
		}
		mu.Lock()
		if last != nil && last.ProcessState != nil {
			if ru, ok := last.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss<<10)
			}
		}
		mu.Unlock()
		if _, err := exec.LookPath("pdfinfo"); err == nil {
			start = time.Now()
			if out, err := exec.Command("pdfinfo", path).CombinedOutput(); err != nil || !strings.Contains(string(out), "500") {
				b.Fatalf("pdfinfo: %v %s", err, out)
			}
			ref += time.Since(start)
		}
	}
	b.StopTimer()
	b.ReportMetric(ours.Seconds()/float64(b.N), "ours-s")
	if ref > 0 {
		b.ReportMetric(ref.Seconds()/float64(b.N), "pdfinfo-s")
		b.ReportMetric(ours.Seconds()/ref.Seconds(), "time-ratio")
	}
	b.ReportMetric(float64(peak)/(1<<20), "worker-peak-RSS-MB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	b.ReportMetric(0, "ns/op")
}
