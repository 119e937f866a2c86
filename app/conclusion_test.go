package app

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

// TestStoreAppliesConclusionEvents: conclusion.upsert replaces the stored
// conclusion unless it is older, and tells listeners.
func TestStoreAppliesConclusionEvents(t *testing.T) {
	s := NewStore(quietLog())
	calls := 0
	s.OnChange(func() { calls++ })
	event := func(seq int64, c wire.Conclusion) wire.Event {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return wire.Event{Seq: seq, Kind: wire.EventConclusion, AppID: 4, Data: b}
	}
	if err := s.Apply(event(1, wire.Conclusion{Version: 2, State: wire.ConclusionDraft, Justification: "черновик"})); err != nil {
		t.Fatal(err)
	}
	got, ok := s.Conclusion(4)
	if !ok || got.AppID != 4 || got.Justification != "черновик" || calls != 1 {
		t.Fatalf("after the event: %+v %v, %d calls", got, ok, calls)
	}
	s.SetConclusion(wire.Conclusion{AppID: 4, Version: 1, Justification: "старое"})
	if got, _ := s.Conclusion(4); got.Justification != "черновик" {
		t.Fatalf("an older read replaced a newer event: %+v", got)
	}
	if err := s.Apply(event(2, wire.Conclusion{Version: 3, State: wire.ConclusionReady, PDFSHA256: "ab"})); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Conclusion(4); got.State != wire.ConclusionReady {
		t.Fatalf("the rendered conclusion was not applied: %+v", got)
	}
	if err := s.Apply(wire.Event{Seq: 3, Kind: wire.EventConclusion, AppID: 4, Data: []byte(`{"version":"x"}`)}); err == nil {
		t.Error("malformed data applied")
	}
	s.Clear()
	if _, ok := s.Conclusion(4); ok {
		t.Error("the conclusion survived Clear")
	}
}

func TestConclusionPermissionsAndSections(t *testing.T) {
	lead := wire.User{ID: 3, Role: wire.RoleExpert}
	a := wire.Application{LeadExpertID: 3, Status: wire.StatusInReview,
		Assignments: []wire.Assignment{{Section: "07.04", ExpertID: 4}, {Section: "07.03", ExpertID: 3}}}
	for _, tc := range []struct {
		me     wire.User
		status wire.Status
		want   bool
	}{
		{lead, wire.StatusInReview, true},
		{lead, wire.StatusConclusion, true},
		{lead, wire.StatusRemarksIssued, false},
		{lead, wire.StatusCompletedPositive, false},
		{wire.User{ID: 4, Role: wire.RoleExpert}, wire.StatusInReview, false},
		{wire.User{ID: 3, Role: wire.RoleManager}, wire.StatusInReview, false},
	} {
		a.Status = tc.status
		if got := ConclusionEditable(a, tc.me); got != tc.want {
			t.Errorf("%v in %s: editable %v, want %v", tc.me, tc.status, got, tc.want)
		}
	}
	docs := []wire.Document{{Section: "07.01"}, {Section: wire.SectionSupporting}, {Section: "07.03"}}
	got := FindingSections(a, docs, wire.Conclusion{Findings: []wire.ConclusionFinding{{Section: "06.01"}}})
	if !slices.Equal(got, []string{"06.01", "07.01", "07.03", "07.04"}) {
		t.Errorf("sections %v", got)
	}
	ready := wire.Conclusion{State: wire.ConclusionReady}
	if !ConclusionSignable(ready, lead) || ConclusionSignable(ready, wire.User{Role: wire.RoleApplicant}) ||
		ConclusionSignable(ready, wire.User{Role: wire.RoleAdmin}) || ConclusionSignable(wire.Conclusion{State: wire.ConclusionRendering}, lead) {
		t.Error("signable wrong")
	}
}
