package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// conclusionXSD is the schema of the XML export.
// conclusionXSD is the schema, by absolute path: xmllint reports a relative
// one it cannot open only as "failed to load external entity".
var conclusionXSD = func() string {
	p, err := filepath.Abs("../../docs/conclusion.xsd")
	if err != nil {
		panic(err)
	}
	return p
}()

// conclDraft is a complete draft: findings for 07.03 and 07.04 (07.01 for
// the matrix world's files), the documents given, a justification.
func conclDraft(version int64, docs []int64, verdict wire.Status) wire.SaveConclusionRequest {
	return wire.SaveConclusionRequest{Version: version, ContractNumber: "Д-42/2026", DocumentIDs: docs, Verdict: verdict,
		Findings: []wire.ConclusionFinding{
			{Section: "07.01", Text: "Пояснительная записка содержит исходные данные и условия для подготовки проектной документации."},
			{Section: "07.03", Text: "Архитектурные решения соответствуют заданию на проектирование и СП 118.13330.2022."},
			{Section: "07.04", Text: "Конструктивные решения обеспечивают механическую безопасность здания."},
		},
		Justification: "Проектная документация соответствует требованиям технических регламентов; все замечания устранены."}
}

// conclApprove takes an application in conclusion through the lead's draft
// and proposal to the manager's approval, and waits until the files are
// rendered; it returns the application and the conclusion.
func conclApprove(t testing.TB, lead, manager *testenv.Actor, a wire.Application, docs []int64) (wire.Application, wire.Conclusion) {
	t.Helper()
	ctx := context.Background()
	if _, err := lead.C.SaveConclusion(ctx, a.ID, conclDraft(0, docs, wire.StatusCompletedPositive), ""); err != nil {
		t.Fatalf("fixture draft: %v", err)
	}
	a, err := lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}, "")
	if err != nil {
		t.Fatalf("fixture proposal: %v", err)
	}
	if a, err = manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatalf("fixture approval: %v", err)
	}
	return a, conclRendered(t, manager.C, a.ID)
}

// conclRendered waits until the conclusion's files are stored. The wait
// ends as soon as they are; the worker is woken by the approval.
func conclRendered(t testing.TB, c *client.Client, appID int64) wire.Conclusion {
	t.Helper()
	deadline := time.Now().Add(hang)
	for {
		got, err := c.Conclusion(context.Background(), appID)
		if err != nil {
			t.Fatalf("conclusion: %v", err)
		}
		if got.State == wire.ConclusionReady {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the conclusion was not rendered within %v: %+v", hang, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// conclSign makes a detached CMS signature of data with openssl (a fresh
// self-signed certificate), as a signer's software would.
func conclSign(t testing.TB, data []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install openssl (make deps)")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	doc, key, cert, sig := filepath.Join(dir, "doc.pdf"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "doc.sig")
	if err := os.WriteFile(doc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=Петров Пётр/O=Госэкспертиза/C=RU", "-utf8")
	run("cms", "-sign", "-binary", "-in", doc, "-signer", cert, "-inkey", key, "-outform", "DER", "-md", "sha256", "-out", sig)
	out, err := os.ReadFile(sig)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// conclGet fetches path with a token and returns the status, the body and
// the X-Content-SHA256 header.
func conclGet(t testing.TB, base, path, token string) (int, []byte, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+wire.APIPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.Bytes(), resp.Header.Get(wire.HeaderContentSHA256)
}

// conclShared is what the matrix's conclusion rows share, one per world:
// an in_review application with a saved draft, and a completed one whose
// conclusion is rendered and signed once.
type conclShared struct {
	draft   wire.Application
	done    wire.Application
	sigFile []byte
	sigID   int64
}

var (
	conclSharedMu sync.Mutex
	conclWorlds   = map[*world]*conclShared{}
)

func (w *world) conclShared() *conclShared {
	conclSharedMu.Lock()
	defer conclSharedMu.Unlock()
	if sh, ok := conclWorlds[w]; ok {
		return sh
	}
	ctx := context.Background()
	lead, manager := w.actors["lead"], w.actors["manager"]
	sh := &conclShared{draft: w.app("in_review", true)}
	if _, err := lead.C.SaveConclusion(ctx, sh.draft.ID, conclDraft(0, []int64{w.versions[sh.draft.ID]}, ""), ""); err != nil {
		w.t.Fatalf("fixture draft: %v", err)
	}
	a := w.app("conclusion", true)
	sh.done, _ = conclApprove(w.t, lead, manager, a, []int64{w.versions[a.ID]})
	var pdf bytes.Buffer
	if _, err := lead.C.ConclusionFile(ctx, a.ID, client.ConclusionPDF, &pdf); err != nil {
		w.t.Fatalf("fixture PDF: %v", err)
	}
	sh.sigFile = conclSign(w.t, pdf.Bytes())
	if c, err := lead.C.AddConclusionSignature(ctx, a.ID, "Петров.sig", sh.sigFile); err != nil || len(c.Signatures) != 1 {
		w.t.Fatalf("fixture signature: %+v %v", c.Signatures, err)
	} else {
		sh.sigID = c.Signatures[0].ID
	}
	conclWorlds[w] = sh
	return sh
}

// conclusionRequest builds the call of a conclusion row of the matrix
// (and of the verdict, which needs a complete draft); ok is false for
// other rows.
func (w *world) conclusionRequest(r matrixRow, rel string) (method, path string, body any, ok bool) {
	p := r.path
	if !strings.Contains(p, "/conclusion") && !strings.HasSuffix(p, "/verdict") {
		return "", "", nil, false
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	set := func(n int64) { p = strings.Replace(p, "{id}", id(n), 1) }
	if rel == "anon" {
		// Refused before any lookup: no fixture needed.
		set(1)
		p = strings.Replace(p, "{sid}", "1", 1)
		return r.method, p, nil, true
	}
	ctx := context.Background()
	switch {
	case strings.HasSuffix(p, "/verdict"):
		a := w.app("conclusion", true)
		if _, err := w.actors["lead"].C.SaveConclusion(ctx, a.ID, conclDraft(0, []int64{w.versions[a.ID]}, ""), ""); err != nil {
			w.t.Fatalf("fixture draft: %v", err)
		}
		set(a.ID)
		body = wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}
	case r.method == http.MethodPut:
		a := w.app("in_review", true)
		set(a.ID)
		body = conclDraft(0, []int64{w.versions[a.ID]}, wire.StatusCompletedPositive)
	case r.method == http.MethodGet && strings.HasSuffix(p, "/conclusion"):
		set(w.conclShared().draft.ID)
	case strings.HasSuffix(p, "/signatures"):
		sh := w.conclShared()
		set(sh.done.ID)
		p += "?file_name=" + "podpis.sig"
		body = rawBody(sh.sigFile)
	case strings.Contains(p, "/signatures/{sid}"):
		sh := w.conclShared()
		set(sh.done.ID)
		p = strings.Replace(p, "{sid}", id(sh.sigID), 1)
	default: // pdf, xml
		set(w.conclShared().done.ID)
	}
	return r.method, p, body, true
}
