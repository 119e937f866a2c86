package boot_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestHostileUploads sends files of the hostile corpus
// (server/validate/testdata/hostile, where the validator's own table test
// runs all of them) through the real upload path: chunked upload, hash
// check, guarded validation at finish. Each is refused with the file's
// error code, nothing becomes visible, and the server keeps serving: a
// valid file uploaded after them is accepted.
func TestHostileUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: t.TempDir(), ChunkSize: testChunk, ValidateWorker: testenv.ValidateWorker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(ctx) })
	app := testenv.Applicant(t, s)
	a := draft(t, app)

	cases := []struct {
		file    string
		section string
		code    wire.Code
	}{
		{"billion-laughs.xml", "07.01", wire.CodeInvalid},
		{"xxe-file.xml", "07.01", wire.CodeInvalid},
		{"pdf-xref-prev-loop.pdf", "07.02", wire.CodeInvalid},
		{"pdf-objstm-loop.pdf", "07.02", wire.CodeInvalid},
		{"pdf-truncated.pdf", "07.02", wire.CodeInvalid},
		{"polyglot-pdf-zip.docx", "07.03", wire.CodeInvalid},
		{"zip-nested.docx", "07.03", wire.CodeInvalid},
		{"png-huge-header.png", "07.04", wire.CodeTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "validate", "testdata", "hostile", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = upload(t, s, app.C, a.ID, tc.section, tc.file, b, sha(b))
			we, ok := wire.AsError(err)
			if !ok || we.Code != tc.code || we.Field != "file" || we.Message == "" || we.MessageEN == "" {
				t.Fatalf("upload of %s: %v, want a %s refusal of the file", tc.file, err, tc.code)
			}
		})
	}
	if docs, err := documents(ctx, app.C, a.ID); err != nil || len(docs) != 0 {
		t.Fatalf("after the hostile uploads: %+v %v, want no document", docs, err)
	}
	pdf := seed.DemoPDF(1, "Инженерные системы")
	if _, err := upload(t, s, app.C, a.ID, "07.05", "ИОС.pdf", pdf, sha(pdf)); err != nil {
		t.Fatalf("a valid PDF after the hostile ones: %v", err)
	}
}
