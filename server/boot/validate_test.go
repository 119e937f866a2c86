package boot_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestUploadValidation: a real PDF becomes a version with its pages
// counted by the guarded worker; a file that only pretends to be a PDF is
// refused with a message saying what to do, and nothing becomes visible.
func TestUploadValidation(t *testing.T) {
	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: t.TempDir(), ChunkSize: testChunk, ValidateWorker: testenv.ValidateWorker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(ctx) })
	app := testenv.Applicant(t, s)
	a := draft(t, app)

	pdf := seed.DemoPDF(3, "Пояснительная записка")
	sum := sha(pdf)
	up, err := upload(t, s, app.C, a.ID, "07.01", "ПЗ.pdf", pdf, sum)
	if err != nil {
		t.Fatalf("valid PDF refused: %v", err)
	}
	docs, err := documents(ctx, app.C, a.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	v := docs[0].Versions[0]
	if v.ID != up.VersionID || v.Kind != "pdf" || v.Pages != 3 || len(v.PageSizes) != 3 || v.PageSizes[0].W != 595 || v.PageSizes[0].H != 842 {
		t.Fatalf("version: %+v", v)
	}

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)
	_, err = upload(t, s, app.C, a.ID, "07.02", "ПЗУ.pdf", png, sha(png))
	we, ok := wire.AsError(err)
	if !ok || we.Code != wire.CodeInvalid || we.Field != "file" || !strings.Contains(we.Message, "PNG") {
		t.Fatalf("fake PDF: %v", err)
	}
	if docs, _ := documents(ctx, app.C, a.ID); len(docs) != 1 {
		t.Fatalf("a refused file became visible: %+v", docs)
	}
	truncated := pdf[:len(pdf)/2]
	if _, err := upload(t, s, app.C, a.ID, "07.03", "АР.pdf", truncated, sha(truncated)); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("truncated PDF: %v", err)
	}
}
