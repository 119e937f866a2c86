package app

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestSigners(t *testing.T) {
	tests := []struct {
		name   string
		report string
		want   []string
	}{
		{"GOST", `{"signers":[{"subject":"CN=Иванов","verdict":"structure_checked_crypto_unavailable"}]}`, []string{VerdictDigestOnly}},
		{"two signers", `{"signers":[{"verdict":"valid"},{"verdict":"digest_mismatch"}]}`, []string{VerdictValid, VerdictMismatch}},
		{"unknown verdict is not trusted", `{"signers":[{"verdict":"VALID"}]}`, []string{VerdictNotChecked}},
		{"unreadable report", `not json`, []string{VerdictNotChecked}},
		{"no signers", `{"signers":[]}`, []string{VerdictNotChecked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Signers(wire.Signature{Report: json.RawMessage(tt.report)})
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v", got)
			}
			for i := range got {
				if got[i].Verdict != tt.want[i] {
					t.Errorf("signer %d: %s, want %s", i, got[i].Verdict, tt.want[i])
				}
			}
		})
	}
}

// TestDocumentVersionEvents: versions arrive by event newest first, a
// re-review replaces the older row of the same version, and a load keeps
// what events brought.
func TestDocumentVersionEvents(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	ev := func(seq int64, v wire.DocumentVersion) wire.Event {
		d, _ := json.Marshal(wire.Document{ID: 7, AppID: 1, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{v}})
		return wire.Event{Seq: seq, Kind: wire.EventDocumentVersion, AppID: 1, Data: d}
	}
	for i, e := range []wire.Event{
		ev(1, wire.DocumentVersion{ID: 1, Number: 1, Review: wire.ReviewPending, Version: 1}),
		ev(2, wire.DocumentVersion{ID: 2, Number: 2, Review: wire.ReviewPending, Version: 1}),
		ev(3, wire.DocumentVersion{ID: 1, Number: 1, Review: wire.ReviewRejected, Version: 2}),
		ev(4, wire.DocumentVersion{ID: 1, Number: 1, Review: wire.ReviewPending, Version: 1}), // late duplicate
	} {
		if err := s.Apply(e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	s.SetDocuments(1, []wire.Document{{ID: 7, AppID: 1, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{{ID: 1, Number: 1, Review: wire.ReviewPending, Version: 1}}}})
	docs := s.Documents(1)
	if len(docs) != 1 || len(docs[0].Versions) != 2 {
		t.Fatalf("documents %+v", docs)
	}
	v2, v1 := docs[0].Versions[0], docs[0].Versions[1]
	if v2.Number != 2 || v1.Number != 1 || v1.Review != wire.ReviewRejected {
		t.Fatalf("versions %+v", docs[0].Versions)
	}
}
