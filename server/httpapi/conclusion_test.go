package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestConclusionFullPath: in_review → the lead writes the draft (with the
// remarks register as resolved) → conclusion → proposal → the manager
// approves → the server renders the PDF and the XML; both carry the same
// content, the XML is valid against the schema, downloads are verified by
// X-Content-SHA256; the applicant reads nothing before completion and
// everything after; another organisation gets 404; stale saves conflict.
func TestConclusionFullPath(t *testing.T) {
	ctx := context.Background()
	c := newReviewCast(t)
	a, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	_, memberRec := c.member.Subscribe(t, nil)

	// Two remarks published, answered, one accepted and one closed.
	var drafts []int64
	for _, req := range []wire.CreateRemarkRequest{
		{VersionID: vid, Page: 2, Text: "Высота этажа 2,5 м мала", NormRef: "СП 54.13330.2022 п. 5.8", Criticality: wire.CriticalityCritical},
		{Section: "07.03", Text: "Нет ведомости отделки помещений", NormRef: "ГОСТ Р 21.101-2020 п. 4.2", Criticality: wire.CriticalityOrdinary},
	} {
		r, err := c.assigned.C.CreateRemark(ctx, a.ID, req, "")
		if err != nil {
			t.Fatal(err)
		}
		drafts = append(drafts, r.ID)
	}
	a, _ = c.member.C.Application(ctx, a.ID)
	if _, err := c.lead.C.PublishRemarks(ctx, a.ID, wire.PublishRemarksRequest{Version: a.Version, RemarkIDs: drafts}, ""); err != nil {
		t.Fatal(err)
	}
	rs, err := c.member.C.Remarks(ctx, a.ID, 0)
	if err != nil || len(rs) != 2 {
		t.Fatalf("remarks %v %v", rs, err)
	}
	answers := []string{"Высота этажа увеличена до 3,0 м, лист 5 заменён", "Ведомость отделки добавлена в том 3"}
	for i, r := range rs {
		if _, err := c.member.C.AnswerRemark(ctx, r.ID, wire.AnswerRemarkRequest{Version: r.Version, Text: answers[i]}, ""); err != nil {
			t.Fatal(err)
		}
	}
	a, _ = c.member.C.Application(ctx, a.ID)
	if a, err = c.member.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusInReview}, ""); err != nil {
		t.Fatal(err)
	}
	rs, _ = c.assigned.C.Remarks(ctx, a.ID, 0)
	for i, moves := range [][]wire.RemarkStatus{{wire.RemarkAccepted}, {wire.RemarkAccepted, wire.RemarkClosed}} {
		r := rs[i]
		for _, to := range moves {
			if r, err = c.assigned.C.SetRemarkStatus(ctx, r.ID, wire.RemarkStatusRequest{Version: r.Version, Status: to, Comment: "Проверено"}, ""); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Before completion: the applicant is refused, strangers see nothing.
	_, err = c.member.C.Conclusion(ctx, a.ID)
	wantCode(t, err, wire.CodeForbidden, "")
	for who, token := range map[string]string{"other": c.other.C.Token(), "unassigned": c.unassigned.C.Token()} {
		if st, _, _ := conclGet(t, c.s.URL(), fmt.Sprintf("/applications/%d/conclusion", a.ID), token); st != 404 {
			t.Errorf("%s reads the draft: HTTP %d, want 404", who, st)
		}
	}

	// The draft: live parts before the first save.
	live, err := c.lead.C.Conclusion(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if live.Version != 0 || len(live.Remarks) != 2 || live.Remarks[0].Status != wire.RemarkAccepted || live.Remarks[0].Answer != answers[0] ||
		live.ApplicationNumber != a.Number || len(live.Experts) != 2 || !live.Experts[0].Lead {
		t.Fatalf("live draft %+v", live)
	}
	if _, err := c.assigned.C.SaveConclusion(ctx, a.ID, conclDraft(0, []int64{vid}, ""), ""); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Errorf("an assigned expert saves the draft: %v, want forbidden", err)
	}
	bad := conclDraft(0, []int64{vid}, "")
	bad.Findings = append(bad.Findings, wire.ConclusionFinding{Section: "07.03", Text: "ещё раз"})
	_, err = c.lead.C.SaveConclusion(ctx, a.ID, bad, "")
	wantCode(t, err, wire.CodeInvalid, "findings[3]")
	d1, err := c.lead.C.SaveConclusion(ctx, a.ID, conclDraft(0, []int64{vid}, wire.StatusCompletedPositive), "")
	if err != nil {
		t.Fatal(err)
	}
	if d1.Version != 1 || len(d1.Documents) != 1 || d1.Documents[0].VersionID != vid || len(d1.GUID) != 36 || d1.GUID[14] != '4' {
		t.Fatalf("saved draft %+v", d1)
	}
	// A save naming a version someone already replaced is refused.
	stale := conclDraft(0, nil, "")
	_, err = c.lead.C.SaveConclusion(ctx, a.ID, stale, "")
	if we := wantCode(t, err, wire.CodeConflict, "version"); we.Current != 1 {
		t.Errorf("stale save: current %d, want 1", we.Current)
	}

	// Proposal, withdrawn by a later save, proposed again, approved.
	a, _ = c.lead.C.Application(ctx, a.ID)
	if a, err = c.lead.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusConclusion}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = c.lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatal(err)
	}
	d2, err := c.lead.C.SaveConclusion(ctx, a.ID, conclDraft(d1.Version, []int64{vid}, wire.StatusCompletedPositive), "")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ = c.manager.C.Application(ctx, a.ID); a.ProposedVerdict != "" || d2.Proposed {
		t.Fatalf("a save after the proposal left it: %q, %v", a.ProposedVerdict, d2.Proposed)
	}
	_, err = c.manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusCompletedPositive}, "")
	wantCode(t, err, wire.CodeIllegalTransition, "")
	if a, err = c.lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = c.manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatal(err)
	}

	// The applicant is told when the files are ready and reads them.
	ready := waitEvent(t, memberRec, wire.EventConclusion, "the rendered conclusion", func(x wire.Conclusion) bool { return x.State == wire.ConclusionReady })
	for _, e := range testenv.Kinds(memberRec.Events(), wire.EventConclusion) {
		var x wire.Conclusion
		if err := e.Decode(&x); err != nil || x.ApprovedAt == nil {
			t.Fatalf("the applicant received a draft of the conclusion (event %d): %v", e.Seq, err)
		}
	}
	got, err := c.member.C.Conclusion(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number == "" || !strings.HasPrefix(got.Number, "ГГЭ-З-") || got.GUID != d1.GUID || got.PDFSHA256 != ready.PDFSHA256 || got.ApprovedBy != c.manager.FullName {
		t.Fatalf("approved conclusion %+v", got)
	}
	if _, err := c.lead.C.SaveConclusion(ctx, a.ID, conclDraft(got.Version, nil, ""), ""); wire.ErrorCode(err) != wire.CodeConflict {
		t.Errorf("editing an approved conclusion: %v, want conflict", err)
	}

	st, pdf, sum := conclGet(t, c.s.URL(), fmt.Sprintf("/applications/%d/conclusion/pdf", a.ID), c.member.C.Token())
	if st != 200 || sum != got.PDFSHA256 || conclSHA(pdf) != sum {
		t.Fatalf("PDF: HTTP %d, header %s, content %s, conclusion %s", st, sum, conclSHA(pdf), got.PDFSHA256)
	}
	pages := pdftest.Pages(t, pdf)
	flat := strings.Join(strings.Fields(strings.Join(pages, "\n")), " ")
	var words []string
	for _, w := range pdftest.Words(t, pdf) {
		words = append(words, w.Text)
	}
	for _, want := range []string{"Заключение государственной экспертизы № " + got.Number, "Жилой дом", "г. Казань", "Договор № Д-42/2026"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, flat)
		}
	}
	for _, f := range got.Findings {
		if !strings.Contains(flat, f.Text) {
			t.Errorf("the PDF lacks the finding %q", f.Text)
		}
	}
	for _, r := range got.Remarks {
		for _, phrase := range []string{r.Text, r.NormRef, r.Answer} {
			if !containsSeq(words, phrase) {
				t.Errorf("the PDF lacks %q of remark %d", phrase, r.Number)
			}
		}
	}

	st, xmlDoc, sum := conclGet(t, c.s.URL(), fmt.Sprintf("/applications/%d/conclusion/xml", a.ID), c.member.C.Token())
	if st != 200 || sum != got.XMLSHA256 || conclSHA(xmlDoc) != sum {
		t.Fatalf("XML: HTTP %d, header %s, content %s", st, sum, conclSHA(xmlDoc))
	}
	if msg := xsdComplaint(t, xmlDoc); msg != "" {
		t.Fatalf("the XML is not valid against %s:\n%s\n%s", conclusionXSD, msg, xmlDoc)
	}
	var x service.XMLConclusion
	if err := xml.Unmarshal(xmlDoc, &x); err != nil {
		t.Fatal(err)
	}
	var texts, remarks []string
	for _, s := range x.Sections.Section {
		texts = append(texts, s.Code+":"+s.Findings)
	}
	for _, r := range x.Remarks.Remark {
		remarks = append(remarks, fmt.Sprintf("%d:%s:%s:%s", r.Number, r.Text, r.Status, r.Answer))
	}
	var wantTexts, wantRemarks []string
	for _, f := range got.Findings {
		wantTexts = append(wantTexts, f.Section+":"+f.Text)
	}
	for _, r := range got.Remarks {
		wantRemarks = append(wantRemarks, fmt.Sprintf("%d:%s:%s:%s", r.Number, r.Text, r.Status, r.Answer))
	}
	if x.GUID != got.GUID || x.Number != got.Number || x.PrintForm.SHA256 != got.PDFSHA256 || x.Verdict.Result != "positive" ||
		x.ExaminationObject.Name != got.ObjectName || !slices.Equal(texts, wantTexts) || !slices.Equal(remarks, wantRemarks) {
		t.Errorf("the XML does not carry the conclusion:\n%+v\nwant %+v", x, got)
	}

	// Another organisation: 404 for everything.
	for _, kind := range []string{"", "/pdf", "/xml"} {
		if st, _, _ := conclGet(t, c.s.URL(), fmt.Sprintf("/applications/%d/conclusion%s", a.ID, kind), c.other.C.Token()); st != 404 {
			t.Errorf("another organisation reads conclusion%s: HTTP %d, want 404", kind, st)
		}
	}

	// Signatures: the lead signs the PDF (valid), a signature of another
	// file says so; the applicant may not sign and downloads them.
	sig := conclSign(t, pdf)
	signed, err := c.lead.C.AddConclusionSignature(ctx, a.ID, "Петров.sig", sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.manager.C.AddConclusionSignature(ctx, a.ID, "другое.p7s", conclSign(t, xmlDoc)); err != nil {
		t.Fatal(err)
	}
	again, err := c.lead.C.AddConclusionSignature(ctx, a.ID, "Петров.sig", sig)
	if err != nil || len(again.Signatures) != 2 {
		t.Fatalf("the same signature again: %d signatures, %v", len(again.Signatures), err)
	}
	var verdicts []string
	for _, s := range again.Signatures {
		var rep struct{ Signers []struct{ Verdict string } }
		if err := json.Unmarshal(s.Report, &rep); err != nil || len(rep.Signers) != 1 {
			t.Fatalf("report %s: %v", s.Report, err)
		}
		verdicts = append(verdicts, rep.Signers[0].Verdict)
	}
	if fmt.Sprint(verdicts) != "[valid digest_mismatch]" {
		t.Errorf("signature verdicts %v, want [valid digest_mismatch]", verdicts)
	}
	_, err = c.member.C.AddConclusionSignature(ctx, a.ID, "заявитель.sig", sig)
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.lead.C.AddConclusionSignature(ctx, a.ID, "подпись.txt", sig)
	wantCode(t, err, wire.CodeInvalid, "file_name")
	st, body, sum := conclGet(t, c.s.URL(), fmt.Sprintf("/applications/%d/conclusion/signatures/%d", a.ID, signed.Signatures[0].ID), c.member.C.Token())
	if st != 200 || string(body) != string(sig) || sum != conclSHA(sig) {
		t.Errorf("signature download: HTTP %d, %d bytes, header %s", st, len(body), sum)
	}
}

// TestConclusionProposalNeedsACompleteDraft: no draft, no justification, or
// a positive verdict over an unresolved critical remark are refused with
// what to fix.
func TestConclusionProposalNeedsACompleteDraft(t *testing.T) {
	ctx := context.Background()
	c := newReviewCast(t)
	a, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	r, err := c.assigned.C.CreateRemark(ctx, a.ID, wire.CreateRemarkRequest{Section: "07.03", Text: "Нет разрезов", NormRef: "ПП РФ № 87 п. 13",
		Criticality: wire.CriticalityCritical}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.lead.C.PublishRemarks(ctx, a.ID, wire.PublishRemarksRequest{Version: a.Version, RemarkIDs: []int64{r.ID}}, ""); err != nil {
		t.Fatal(err)
	}
	a, _ = c.member.C.Application(ctx, a.ID)
	if a, err = c.member.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusInReview}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = c.lead.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusConclusion}, ""); err != nil {
		t.Fatal(err)
	}
	propose := func(v wire.Status) error {
		a, _ = c.lead.C.Application(ctx, a.ID)
		_, err := c.lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: v}, "")
		return err
	}
	wantCode(t, propose(wire.StatusCompletedPositive), wire.CodeConflict, "conclusion")
	d := conclDraft(0, []int64{vid}, "")
	d.Justification = " "
	saved, err := c.lead.C.SaveConclusion(ctx, a.ID, d, "")
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, propose(wire.StatusCompletedNegative), wire.CodeInvalid, "justification")
	if _, err := c.lead.C.SaveConclusion(ctx, a.ID, conclDraft(saved.Version, []int64{vid}, ""), ""); err != nil {
		t.Fatal(err)
	}
	wantCode(t, propose(wire.StatusCompletedPositive), wire.CodeConflict, "verdict")
	if err := propose(wire.StatusCompletedNegative); err != nil {
		t.Fatalf("a negative verdict over an open critical remark: %v", err)
	}
	got, _ := c.lead.C.Conclusion(ctx, a.ID)
	if got.Verdict != wire.StatusCompletedNegative || !got.Proposed {
		t.Errorf("after the proposal: verdict %q, proposed %v", got.Verdict, got.Proposed)
	}
}

// xsdComplaint validates doc against docs/conclusion.xsd with xmllint
// (libxml2-utils, in `make deps`); "" when valid.
func xsdComplaint(t *testing.T, doc []byte) string {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (make deps)")
	}
	p := filepath.Join(t.TempDir(), "conclusion.xml")
	if err := os.WriteFile(p, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", conclusionXSD, p).CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out))
	}
	return ""
}

func conclSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// brokenRenderer fails while broken is set, then typesets with eng.
type brokenRenderer struct {
	eng    service.LetterRenderer
	broken atomic.Bool
}

func (b *brokenRenderer) Write(ctx context.Context, w io.Writer, d *pdfdoc.Document) error {
	if b.broken.Load() {
		return errors.New("injected: the font cache is unavailable")
	}
	return b.eng.Write(ctx, w, d)
}

// TestConclusionRenderingRetried: a failing render never undoes the
// approval; the files answer 409 with Retry-After meanwhile and the worker
// retries until they are stored.
func TestConclusionRenderingRetried(t *testing.T) {
	ctx := context.Background()
	eng, err := pdfdoc.New(ctx, testenv.FontCache())
	if err != nil {
		t.Fatal(err)
	}
	r := &brokenRenderer{eng: eng}
	r.broken.Store(true)
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache(),
		ConclusionRenderer: r, LetterRetry: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	member, lead, assigned := testenv.Applicant(t, s), testenv.Staff(t, s, wire.RoleExpert, 0), testenv.Staff(t, s, wire.RoleExpert, 0)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	a, vid := inReview(t, member, manager, lead, assigned)
	if a, err = lead.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusConclusion}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := lead.C.SaveConclusion(ctx, a.ID, conclDraft(0, []int64{vid}, ""), ""); err != nil {
		t.Fatal(err)
	}
	if a, err = lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusCompletedPositive}, ""); err != nil {
		t.Fatal(err)
	}
	q := s.Service.Store().Read()
	deadline := time.Now().Add(hang)
	for {
		st, err := q.ConclusionRenderState(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Attempts >= 2 && strings.Contains(st.Error, "font cache is unavailable") && st.NextAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retried failure recorded within %v: %+v", hang, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := member.C.Application(ctx, a.ID)
	if err != nil || got.Status != wire.StatusCompletedPositive {
		t.Fatalf("after failed renders the application is %s (%v), want completed_positive", got.Status, err)
	}
	c, err := member.C.Conclusion(ctx, a.ID)
	if err != nil || c.State != wire.ConclusionRendering || c.Number == "" {
		t.Fatalf("while rendering fails the conclusion is %+v (%v)", c, err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+wire.APIPrefix+fmt.Sprintf("/applications/%d/conclusion/pdf", a.ID), nil)
	req.Header.Set("Authorization", "Bearer "+member.C.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("PDF while rendering: HTTP %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.broken.Store(false)
	done := conclRendered(t, member.C, a.ID)
	if _, err := member.C.ConclusionFile(ctx, a.ID, "pdf", io.Discard); err != nil || done.PDFSHA256 == "" {
		t.Fatalf("after the retry: %v, %+v", err, done)
	}
}
