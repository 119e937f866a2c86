package boot_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// muAnnotsJS prints, as JSON, each annotation MuPDF reads: page, subtype,
// /NM and /Contents. MuPDF shares no code with the exporter.
const muAnnotsJS = `var doc = new Document(scriptArgs[0]);
var out = [];
for (var i = 0; i < doc.countPages(); i++) {
  var as = doc.loadPage(i).getAnnotations();
  for (var j = 0; j < as.length; j++) {
    var nm = as[j].getObject().get("NM");
    out.push({page: i + 1, type: as[j].getType(), nm: nm && nm.isString() ? nm.asString() : "", contents: as[j].getContents()});
  }
}
print(JSON.stringify(out));`

type muAnnot struct {
	Page     int    `json:"page"`
	Type     string `json:"type"`
	NM       string `json:"nm"`
	Contents string `json:"contents"`
}

func mupdfAnnots(t *testing.T, path string) []muAnnot {
	t.Helper()
	js := filepath.Join(t.TempDir(), "annots.js")
	if err := os.WriteFile(js, []byte(muAnnotsJS), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mutool", "run", js, path).Output()
	if err != nil {
		t.Fatalf("mutool run: %v (install mupdf-tools)", err)
	}
	var as []muAnnot
	if err := json.Unmarshal(out, &as); err != nil {
		t.Fatalf("mutool output %q: %v", out, err)
	}
	return as
}

// TestExportAnnotatedThroughTheDesktopCore: an expert annotates an
// uploaded PDF on a real server; the desktop core exports the version with
// those annotations as PDF annotations MuPDF reads back by row id; the
// export uses the verified file cache and refetches a tampered copy;
// without the network, or for an applicant (who may not see
// annotations), nothing is written under the chosen name.
func TestExportAnnotatedThroughTheDesktopCore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	proxy := testenv.NewProxy(t, s.Addr.String())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	lead := testenv.Staff(t, s, wire.RoleExpert, 0)

	a := draft(t, applicant)
	pdf := seed.DemoPDF(3, "Архитектурные решения")
	if _, err := upload(t, s, applicant.C, a.ID, "07.03", "АР", pdf, sha(pdf), "АР.pdf"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	move := func(who *testenv.Actor, to wire.Status) {
		t.Helper()
		var err error
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to}, ""); err != nil {
			t.Fatalf("%s → %s: %v", a.Status, to, err)
		}
	}
	move(applicant, wire.StatusSubmitted)
	var err error
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID}, ""); err != nil {
		t.Fatal(err)
	}
	move(manager, wire.StatusAwaitingContract)
	move(applicant, wire.StatusAwaitingPayment)
	move(manager, wire.StatusInReview)

	docs, err := documents(ctx, lead.C, a.ID)
	if err != nil || len(docs) != 1 || len(docs[0].Versions) != 1 {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	v := docs[0].Versions[0]
	if len(v.PageSizes) != 3 || v.Kind != "pdf" {
		t.Fatalf("the server did not check the PDF: %+v", v)
	}

	reqs := []wire.CreateAnnotationRequest{
		{Page: 1, Kind: wire.AnnotRect, Color: "#ff0000", Text: "Проверить высоту этажа",
			Geometry: wire.Geometry{Rect: &wire.Rect{X1: 72, Y1: 600, X2: 300, Y2: 700}}},
		{Page: 1, Kind: wire.AnnotNote, Color: "#0000ff", Text: "Толщина перекрытия не указана — см. СП 54.13330.2022 п. 5.3",
			Geometry: wire.Geometry{Rect: &wire.Rect{X1: 320, Y1: 600, X2: 520, Y2: 700}}},
		{Page: 2, Kind: wire.AnnotArrow, Color: "#00aa00",
			Geometry: wire.Geometry{Points: []wire.Point{{X: 100, Y: 100}, {X: 300, Y: 300}}}},
		{Page: 3, Kind: wire.AnnotCloud, Color: "#aa00aa", Text: "Узел не раскрыт",
			Geometry: wire.Geometry{Rect: &wire.Rect{X1: 100, Y1: 100, X2: 400, Y2: 300}}},
	}
	var made []wire.Annotation
	for _, r := range reqs {
		x, err := lead.C.CreateAnnotation(ctx, v.ID, r, "")
		if err != nil {
			t.Fatalf("create %s: %v", r.Kind, err)
		}
		made = append(made, x)
	}
	if _, err := lead.C.ReplyAnnotation(ctx, made[0].ID, "Высота 3,0 м — соответствует", ""); err != nil {
		t.Fatal(err)
	}

	log := testenv.Logger(t)
	open := func(server string, who *testenv.Actor, code string) (*app.Workspace, string) {
		t.Helper()
		sess := app.NewSession(log, app.NewDeviceID(), "test")
		if _, err := sess.Login(ctx, app.Credentials{Server: server, Login: who.User.Login, Password: who.Password, TOTPCode: code}); err != nil {
			t.Fatal(err)
		}
		ws := app.NewWorkspace(log, sess, app.NewStore(log))
		dir := t.TempDir()
		if err := ws.UseCache(dir); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		return ws, app.FilesDir(dir, server, who.User.ID)
	}
	lws, files := open(proxy.URL(), lead, lead.NextCode(t))
	opt := pdfannot.Options{FontCacheDir: testenv.FontCache(), Flatten: false}

	out := t.TempDir()
	check := func(path string) {
		t.Helper()
		got := mupdfAnnots(t, path)
		for i, m := range made {
			k := slices.IndexFunc(got, func(x muAnnot) bool { return x.NM == pdfannot.NM(m.ID) })
			if k < 0 {
				t.Errorf("annotation %d (%s) is not in the export: %+v", m.ID, m.Kind, got)
				continue
			}
			if x := got[k]; x.Page != reqs[i].Page || !strings.HasPrefix(x.Contents, reqs[i].Text) {
				t.Errorf("annotation %d: page %d, contents %q; want page %d, %q", m.ID, x.Page, x.Contents, reqs[i].Page, reqs[i].Text)
			}
		}
		if len(got) != len(made) {
			t.Errorf("the export has %d annotations, want %d", len(got), len(made))
		}
		if k := slices.IndexFunc(got, func(x muAnnot) bool { return x.NM == pdfannot.NM(made[0].ID) }); k >= 0 &&
			!strings.Contains(got[k].Contents, "Высота 3,0 м — соответствует") {
			t.Errorf("the reply is not in /Contents: %q", got[k].Contents)
		}
	}
	listing := func() []string {
		es, err := os.ReadDir(out)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	// First export: the file is not cached yet, so it is downloaded (and
	// cached) on the way.
	dst := filepath.Join(out, "АР с пометками.pdf")
	n, err := lws.ExportAnnotated(ctx, v, dst, opt)
	if err != nil || n != len(made) {
		t.Fatalf("export: %d %v", n, err)
	}
	check(dst)
	if _, err := os.Stat(filepath.Join(files, v.SHA256)); err != nil {
		t.Fatalf("the export did not leave the content in the file cache: %v", err)
	}

	// A tampered cache copy is not exported: it is fetched again.
	if err := os.WriteFile(filepath.Join(files, v.SHA256), []byte("%PDF-1.4 tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	flat := filepath.Join(out, "копия.pdf")
	if _, err := lws.ExportAnnotated(ctx, v, flat, pdfannot.Options{FontCacheDir: testenv.FontCache(), Flatten: true, StampCopy: true}); err != nil {
		t.Fatalf("export over a tampered cache: %v", err)
	}
	if got := mupdfAnnots(t, flat); len(got) != 0 {
		t.Errorf("the flattened export still has annotations: %+v", got)
	}
	if b, err := os.ReadFile(filepath.Join(files, v.SHA256)); err != nil || sha(b) != v.SHA256 {
		t.Errorf("the tampered cache copy was not replaced (%v)", err)
	}

	// Without the network the annotations cannot be read: the export
	// fails and leaves nothing under the chosen name or beside it.
	proxy.SetDown(true)
	if _, err := lws.ExportAnnotated(ctx, v, filepath.Join(out, "offline.pdf"), opt); err == nil {
		t.Error("an export without the server succeeded")
	}
	proxy.SetDown(false)
	if got := listing(); !slices.Equal(got, []string{"АР с пометками.pdf", "копия.pdf"}) {
		t.Errorf("the export folder holds %q", got)
	}

	// Annotations are the staff's: the applicant's export is refused.
	aws, _ := open(s.URL(), applicant, "")
	if _, err := aws.ExportAnnotated(ctx, v, filepath.Join(out, "applicant.pdf"), opt); wire.ErrorCode(err) == wire.CodeInternal || err == nil {
		t.Errorf("the applicant's export: %v, want a refusal", err)
	}
	if got := listing(); len(got) != 2 {
		t.Errorf("the export folder holds %q after a refused export", got)
	}

	// A version that is not a PDF is refused before anything is fetched.
	xml := v
	xml.Kind, xml.FileName = "xml", "ПЗ.xml"
	if _, err := lws.ExportAnnotated(ctx, xml, filepath.Join(out, "x.pdf"), opt); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Errorf("exporting an XML version: %v", err)
	}
}
