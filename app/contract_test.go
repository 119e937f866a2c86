package app

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestParseRoubles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "150000", want: 15_000_000},
		{in: "150 000", want: 15_000_000},
		{in: "150\u00a0000,5", want: 15_000_050},
		{in: "1 234,56", want: 123_456},
		{in: "1234.56 ₽", want: 123_456},
		{in: "250 000 000,00 руб.", want: 25_000_000_000},
		{in: "0,01", want: 1},
		{in: "7", want: 700},
		{in: "", bad: true},
		{in: "десять", bad: true},
		{in: "1,234", bad: true},
		{in: "1.2.3", bad: true},
		{in: "-5", bad: true},
		{in: "12,", bad: true},
		{in: ",5", bad: true},
		{in: "99999999999999999", bad: true},
		{in: "1e6", bad: true},
	} {
		got, err := ParseRoubles(tc.in)
		if tc.bad {
			if we, ok := wire.AsError(err); !ok || we.Code != wire.CodeInvalid || we.Message == "" {
				t.Errorf("ParseRoubles(%q) = %d, %v; want an invalid error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRoubles(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// TestStoreKeepsNewestPayment: events and loads of the payment side are
// kept by revision, so a late load never undoes an event.
func TestStoreKeepsNewestPayment(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	ev := func(p wire.PaymentInfo) wire.Event {
		b, _ := json.Marshal(p)
		return wire.Event{Seq: p.Revision, Kind: wire.EventContract, AppID: p.AppID, Data: b}
	}
	if err := s.Apply(ev(wire.PaymentInfo{AppID: 7, Revision: 3, PaidKopecks: 300})); err != nil {
		t.Fatal(err)
	}
	s.SetPaymentInfo(wire.PaymentInfo{AppID: 7, Revision: 2, PaidKopecks: 200})
	if p, ok := s.PaymentInfo(7); !ok || p.Revision != 3 || p.PaidKopecks != 300 {
		t.Errorf("after an older load: %+v", p)
	}
	if err := s.Apply(ev(wire.PaymentInfo{AppID: 7, Revision: 4, PaidKopecks: 400})); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PaymentInfo(7); p.PaidKopecks != 400 {
		t.Errorf("after a newer event: %+v", p)
	}
	if _, ok := s.PaymentInfo(8); ok {
		t.Error("an application never loaded has a payment side")
	}
	if err := s.Apply(wire.Event{Seq: 9, Kind: wire.EventContract, Data: json.RawMessage(`{"app_id":"x"}`)}); err == nil {
		t.Error("malformed contract data was applied")
	}
}

func TestPaymentPermissions(t *testing.T) {
	ready := wire.ContractDocument{ID: 1, Kind: wire.DocContract, SHA256: "ab"}
	offered := wire.PaymentInfo{AppID: 1, Contract: &wire.Contract{ID: 1, Status: wire.ContractOffered,
		Documents: []wire.ContractDocument{ready, {ID: 2, Kind: wire.DocInvoice, SHA256: "cd"}}}}
	pending := wire.PaymentInfo{AppID: 1, Contract: &wire.Contract{ID: 1, Status: wire.ContractOffered,
		Documents: []wire.ContractDocument{ready, {ID: 2, Kind: wire.DocInvoice}}}}
	a := wire.Application{ID: 1, OrgID: 5, Status: wire.StatusAwaitingContract}
	member := wire.User{ID: 1, Role: wire.RoleApplicant, OrgID: 5}
	other := wire.User{ID: 2, Role: wire.RoleApplicant, OrgID: 6}
	manager := wire.User{ID: 3, Role: wire.RoleManager}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"member accepts a ready offer", CanAcceptContract(member, a, offered), true},
		{"not while the invoice renders", CanAcceptContract(member, a, pending), false},
		{"not another organisation", CanAcceptContract(other, a, offered), false},
		{"not a manager", CanAcceptContract(manager, a, offered), false},
		{"not in another status", CanAcceptContract(member, wire.Application{OrgID: 5, Status: wire.StatusAwaitingPayment}, offered), false},
		{"manager records with a contract", CanRecordPayment(manager, offered), true},
		{"manager not without one", CanRecordPayment(manager, wire.PaymentInfo{}), false},
		{"member never records", CanRecordPayment(member, offered), false},
		{"member sets the cost of a draft", CanSetCost(member, wire.Application{OrgID: 5, Status: wire.StatusDraft}, wire.PaymentInfo{}), true},
		{"manager not in a draft", CanSetCost(manager, wire.Application{OrgID: 5, Status: wire.StatusDraft}, wire.PaymentInfo{}), false},
		{"manager while submitted", CanSetCost(manager, wire.Application{OrgID: 5, Status: wire.StatusSubmitted}, wire.PaymentInfo{}), true},
		{"nobody once offered", CanSetCost(member, wire.Application{OrgID: 5, Status: wire.StatusSubmitted}, offered), false},
		{"experts do not see payments", CanSeePayment(wire.RoleExpert), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
