package app

import (
	"encoding/json"
	"slices"

	"github.com/expertiza/expertiza/sync/wire"
)

// Signature verdicts as the server's checker reports them (server/sig).
const (
	VerdictValid      = "valid"
	VerdictDigestOnly = "structure_checked_crypto_unavailable"
	VerdictMismatch   = "digest_mismatch"
	VerdictInvalid    = "invalid"
	VerdictNotChecked = "not_checked"
)

// SignerLine is one signer of a detached signature, for display.
type SignerLine struct {
	Subject  string
	Verdict  string // one of the Verdict constants; the UI must never show VerdictDigestOnly as valid
	Detail   string // Russian explanation
	DetailEN string
}

// Signers reads a signature report. An unreadable report yields one line
// with VerdictNotChecked rather than anything that could look valid.
func Signers(s wire.Signature) []SignerLine {
	var rep struct {
		Signers []struct {
			Subject  string `json:"subject"`
			Verdict  string `json:"verdict"`
			Detail   string `json:"detail"`
			DetailEN string `json:"detail_en"`
		} `json:"signers"`
	}
	if err := json.Unmarshal(s.Report, &rep); err != nil || len(rep.Signers) == 0 {
		return []SignerLine{{Verdict: VerdictNotChecked}}
	}
	out := make([]SignerLine, 0, len(rep.Signers))
	for _, sg := range rep.Signers {
		v := sg.Verdict
		switch v {
		case VerdictValid, VerdictDigestOnly, VerdictMismatch, VerdictInvalid:
		default:
			v = VerdictNotChecked
		}
		out = append(out, SignerLine{Subject: sg.Subject, Verdict: v, Detail: sg.Detail, DetailEN: sg.DetailEN})
	}
	return out
}

// Documents returns an application's files, as loaded and as updated by
// events.
func (s *Store) Documents(id int64) []wire.Document {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.docs[id])
}

// SetDocuments installs a loaded file list, keeping versions that arrived
// by event meanwhile.
func (s *Store) SetDocuments(id int64, docs []wire.Document) {
	s.mu.Lock()
	for _, d := range docs {
		for _, v := range d.Versions {
			s.mergeVersion(id, d, v)
		}
	}
	if _, ok := s.docs[id]; !ok {
		s.docs[id] = []wire.Document{}
	}
	s.mu.Unlock()
	s.changed()
}

// mergeVersion puts one version (new, or re-reviewed: the higher row
// version wins) into its document, keeping versions newest first.
func (s *Store) mergeVersion(appID int64, d wire.Document, v wire.DocumentVersion) {
	docs := s.docs[appID]
	i := slices.IndexFunc(docs, func(x wire.Document) bool { return x.ID == d.ID })
	if i < 0 {
		d.Versions = nil
		docs = append(docs, d)
		i = len(docs) - 1
		slices.SortStableFunc(docs, func(a, b wire.Document) int {
			if a.Section != b.Section {
				if a.Section < b.Section {
					return -1
				}
				return 1
			}
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		})
		i = slices.IndexFunc(docs, func(x wire.Document) bool { return x.ID == d.ID })
	}
	vs := docs[i].Versions
	j := slices.IndexFunc(vs, func(x wire.DocumentVersion) bool { return x.ID == v.ID })
	switch {
	case j < 0:
		vs = append(vs, v)
	case vs[j].Version < v.Version:
		vs[j] = v
	}
	slices.SortFunc(vs, func(a, b wire.DocumentVersion) int { return b.Number - a.Number })
	docs[i].Versions = vs
	s.docs[appID] = docs
}
