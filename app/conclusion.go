package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// The conclusion in the client (sync/wire/conclusion.go has its life).
// Its commands are formal acts made online, never queued: a draft saved
// offline and sent later could withdraw a proposal the lead made
// elsewhere meanwhile, and the server's version check would refuse it
// anyway.

// conclusionState is the Store's part for conclusions.
type conclusionState struct {
	byApp map[int64]wire.Conclusion
}

func (c *conclusionState) init() { c.byApp = map[int64]wire.Conclusion{} }

// SetConclusion stores a conclusion that was read or returned by a
// command, unless a newer version is already known.
func (s *Store) SetConclusion(c wire.Conclusion) {
	s.mu.Lock()
	changed := s.setConclusion(c)
	s.mu.Unlock()
	if changed {
		s.changed()
	}
}

func (s *Store) setConclusion(c wire.Conclusion) bool {
	if s.concl.byApp == nil {
		s.concl.init()
	}
	if old, ok := s.concl.byApp[c.AppID]; ok && old.Version > c.Version {
		return false
	}
	s.concl.byApp[c.AppID] = c
	return true
}

// Conclusion returns an application's conclusion as last read or pushed.
func (s *Store) Conclusion(appID int64) (wire.Conclusion, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.concl.byApp[appID]
	return c, ok
}

// applyConclusion applies conclusion.upsert; it reports whether e was one.
// The caller holds mu.
func (s *Store) applyConclusion(e wire.Event) (handled bool, err error) {
	if e.Kind != wire.EventConclusion {
		return false, nil
	}
	var c wire.Conclusion
	if err := e.Decode(&c); err != nil {
		return true, err
	}
	if c.AppID == 0 {
		c.AppID = e.AppID
	}
	s.setConclusion(c)
	return true, nil
}

// LoadConclusion reads an application's conclusion into the Store. An
// applicant asking before the application is completed gets the server's
// refusal (forbidden), which the screen shows as "not yet".
func (w *Workspace) LoadConclusion(ctx context.Context, appID int64) (wire.Conclusion, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.Conclusion{}, err
	}
	out, err := c.Conclusion(ctx, appID)
	if err != nil {
		return wire.Conclusion{}, fmt.Errorf("conclusion of application %d: %w", appID, err)
	}
	w.store.SetConclusion(out)
	return out, nil
}

// SaveConclusion replaces the lead expert's draft seen at r.Version. The
// form's faults are found here first, each with its field.
func (w *Workspace) SaveConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Conclusion, error) {
	if errs := wire.ConclusionInputErrors(r); len(errs) > 0 {
		return wire.Conclusion{}, errs[0]
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Conclusion{}, err
	}
	key := client.NewIdempotencyKey()
	out, err := retryNetwork(ctx, func() (wire.Conclusion, error) { return c.SaveConclusion(ctx, appID, r, key) })
	if err != nil {
		return wire.Conclusion{}, fmt.Errorf("save the conclusion of application %d: %w", appID, err)
	}
	w.store.SetConclusion(out)
	return out, nil
}

// ProposeConclusion saves the draft and proposes its verdict for the
// manager's approval (the application must be in conclusion). The save
// withdraws an earlier proposal, so the application is read again for the
// version the proposal names.
func (w *Workspace) ProposeConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Application, error) {
	if r.Verdict != wire.StatusCompletedPositive && r.Verdict != wire.StatusCompletedNegative {
		return wire.Application{}, wire.E(wire.CodeInvalid, "verdict", "Выберите вывод: положительное или отрицательное заключение",
			"Choose the verdict: positive or negative")
	}
	if _, err := w.SaveConclusion(ctx, appID, r); err != nil {
		return wire.Application{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Application{}, err
	}
	a, err := c.Application(ctx, appID)
	if err != nil {
		return wire.Application{}, fmt.Errorf("open application %d: %w", appID, err)
	}
	key := client.NewIdempotencyKey()
	a, err = retryNetwork(ctx, func() (wire.Application, error) {
		return c.ProposeVerdict(ctx, appID, wire.VerdictRequest{Version: a.Version, Verdict: r.Verdict}, key)
	})
	if err != nil {
		return wire.Application{}, fmt.Errorf("propose the verdict of application %d: %w", appID, err)
	}
	w.store.UpsertApplication(a)
	if _, err := w.LoadConclusion(ctx, appID); err != nil {
		w.log.Warn("conclusion not reloaded after the proposal", "app", appID, "err", err)
	}
	return a, nil
}

// DownloadConclusion saves the conclusion's PDF or XML (client.ConclusionPDF,
// client.ConclusionXML) to dst, verified by its SHA-256.
func (w *Workspace) DownloadConclusion(ctx context.Context, cn wire.Conclusion, kind, dst string) error {
	want := cn.PDFSHA256
	if kind == client.ConclusionXML {
		want = cn.XMLSHA256
	}
	c, err := w.sess.client()
	if err != nil && w.cachedFile(want) == "" {
		return err
	}
	return w.saveVerified(ctx, want, "conclusion."+kind, dst, func(out io.Writer) (string, error) {
		return c.ConclusionFile(ctx, cn.AppID, kind, out)
	})
}

// MaxSignatureFile is the largest detached signature the server takes.
const MaxSignatureFile = 10 << 20

// AddConclusionSignature uploads the detached signature file at path
// (.sig or .p7s) of the conclusion PDF; the answer carries the checker's
// report per signer (Signers).
func (w *Workspace) AddConclusionSignature(ctx context.Context, appID int64, path string) (wire.Conclusion, error) {
	st, err := os.Stat(path)
	if err != nil {
		return wire.Conclusion{}, fmt.Errorf("signature file: %w", err)
	}
	if st.Size() > MaxSignatureFile {
		return wire.Conclusion{}, wire.E(wire.CodeTooLarge, "file", "Файл подписи больше 10 МБ: выберите открепленную подпись (.sig)",
			"The signature file is over 10 MB: choose the detached signature (.sig)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return wire.Conclusion{}, fmt.Errorf("signature file: %w", err)
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Conclusion{}, err
	}
	// The same file twice is kept once, so repeating after a lost answer
	// is harmless.
	out, err := retryNetwork(ctx, func() (wire.Conclusion, error) {
		return c.AddConclusionSignature(ctx, appID, filepath.Base(path), data)
	})
	if err != nil {
		return wire.Conclusion{}, fmt.Errorf("sign the conclusion of application %d: %w", appID, err)
	}
	w.store.SetConclusion(out)
	return out, nil
}

// ConclusionEditable reports whether me may edit a's conclusion draft now
// (the server checks again).
func ConclusionEditable(a wire.Application, me wire.User) bool {
	return me.Role == wire.RoleExpert && me.ID != 0 && a.LeadExpertID == me.ID &&
		(a.Status == wire.StatusInReview || a.Status == wire.StatusConclusion)
}

// ConclusionSignable reports whether me may upload signatures of a's
// rendered conclusion.
func ConclusionSignable(c wire.Conclusion, me wire.User) bool {
	return c.State == wire.ConclusionReady && (me.Role == wire.RoleExpert || me.Role == wire.RoleManager)
}

// FindingSections lists the sections the lead writes findings for: those
// assigned, those with files, and those already written, in classifier
// order.
func FindingSections(a wire.Application, docs []wire.Document, c wire.Conclusion) []string {
	var out []string
	add := func(code string) {
		if _, ok := wire.SectionByCode(code); ok && !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	for _, as := range a.Assignments {
		add(as.Section)
	}
	for _, d := range docs {
		add(d.Section)
	}
	for _, f := range c.Findings {
		add(f.Section)
	}
	slices.Sort(out)
	return out
}
