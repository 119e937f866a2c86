package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestNormalizeServerURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "http://127.0.0.1:8443", want: "http://127.0.0.1:8443"},
		{in: "  https://gge.example.ru/ ", want: "https://gge.example.ru"},
		{in: "gge.example.ru:8443", want: "https://gge.example.ru:8443"},
		{in: "https://gge.example.ru/expertiza/", want: "https://gge.example.ru/expertiza"},
		{in: "", wantErr: true},
		{in: "ftp://gge.example.ru", wantErr: true},
		{in: "https://user:pw@gge.example.ru", wantErr: true},
		{in: "https://", wantErr: true},
		{in: "https://gge.example.ru/?x=1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeServerURL(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NormalizeServerURL(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if we, ok := wire.AsError(err); !ok || we.Field != "server" || we.Message == "" {
					t.Errorf("error %v is not a wire error on field server with a message", err)
				}
				return
			}
			if got != tt.want {
				t.Errorf("NormalizeServerURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateRegistration(t *testing.T) {
	good := wire.RegisterRequest{
		Login: "ivanov", Password: "длинный пароль 2026", FullName: "Иванов Иван Иванович", Email: "ivanov@example.ru",
		Organisation: wire.OrganisationInput{Name: "ООО «Ромашка»", INN: "7707083893", OGRN: "1027700132195", Address: "Москва"},
	}
	tests := []struct {
		name      string
		edit      func(r *wire.RegisterRequest)
		wantField string
	}{
		{name: "valid", edit: func(*wire.RegisterRequest) {}},
		{name: "valid with spaces around numbers and a KPP", edit: func(r *wire.RegisterRequest) {
			r.Organisation.INN, r.Organisation.KPP = " 7707083893 ", "773601001"
		}},
		{name: "no login", edit: func(r *wire.RegisterRequest) { r.Login = " " }, wantField: "login"},
		{name: "no organisation name", edit: func(r *wire.RegisterRequest) { r.Organisation.Name = "" }, wantField: "organisation.name"},
		{name: "bad INN checksum", edit: func(r *wire.RegisterRequest) { r.Organisation.INN = "7707083894" }, wantField: "organisation.inn"},
		{name: "short OGRN", edit: func(r *wire.RegisterRequest) { r.Organisation.OGRN = "102770013219" }, wantField: "organisation.ogrn"},
		{name: "bad KPP", edit: func(r *wire.RegisterRequest) { r.Organisation.KPP = "77360100" }, wantField: "organisation.kpp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			err := ValidateRegistration(r)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			we, ok := wire.AsError(err)
			if !ok || we.Field != tt.wantField {
				t.Fatalf("error %v, want a wire error on field %q", err, tt.wantField)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	cal := wire.DefaultCalendar()
	monday := wire.Date{Year: 2026, Month: time.March, Day: 2}
	date := func(m time.Month, d int) *wire.Date { return &wire.Date{Year: 2026, Month: m, Day: d} }
	n := func(v int) *int { return &v }
	tests := []struct {
		name   string
		app    wire.Application
		want   int
		wantOK bool
	}{
		{name: "no clock", app: wire.Application{}, wantOK: false},
		{name: "deadline this Friday", app: wire.Application{Deadline: date(time.March, 6)}, want: 4, wantOK: true},
		{name: "deadline today", app: wire.Application{Deadline: date(time.March, 2)}, want: 0, wantOK: true},
		// 9 March 2026 is a holiday (8 March falls on a Sunday).
		{name: "holiday skipped", app: wire.Application{Deadline: date(time.March, 10)}, want: 5, wantOK: true},
		{name: "overdue", app: wire.Application{Deadline: date(time.February, 27)}, want: -1, wantOK: true},
		{name: "deadline wins over the server's stale count", app: wire.Application{Deadline: date(time.March, 6), DaysLeft: n(9)}, want: 4, wantOK: true},
		{name: "server count when no date", app: wire.Application{DaysLeft: n(12)}, want: 12, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := DaysLeft(tt.app, cal, monday)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("DaysLeft = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestUserMessage(t *testing.T) {
	refused := wire.E(wire.CodeConflict, "version", "Заявление уже изменено", "Already changed")
	tests := []struct {
		name    string
		err     error
		english bool
		want    string
	}{
		{name: "server words in Russian", err: fmt.Errorf("move: %w", refused), want: "Заявление уже изменено"},
		{name: "server words in English", err: refused, english: true, want: "Already changed"},
		{name: "English falls back to Russian", err: &wire.Error{Code: wire.CodeInvalid, Message: "Только русский"}, english: true, want: "Только русский"},
		{name: "network", err: fmt.Errorf("%w: dial: refused", client.ErrNetwork), want: "Нет связи с сервером. Проверьте адрес сервера и подключение к сети."},
		{name: "timeout", err: context.DeadlineExceeded, english: true, want: "Cannot reach the server. Check the server address and the network connection."},
		{name: "session ended", err: client.ErrTerminal, want: "Сеанс завершён. Войдите снова."},
		{name: "anything else hides details", err: errors.New("decode answer: EOF"), want: "Непредвиденная ошибка. Подробности записаны в журнал приложения."},
		{name: "nil", err: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UserMessage(tt.err, tt.english); got != tt.want {
				t.Errorf("UserMessage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorPredicates(t *testing.T) {
	tests := []struct {
		name                      string
		err                       error
		totp, conflict, signedOut bool
	}{
		{name: "totp", err: fmt.Errorf("login: %w", wire.E(wire.CodeTOTPRequired, "totp_code", "код", "code")), totp: true},
		{name: "conflict", err: fmt.Errorf("move: %w", wire.E(wire.CodeConflict, "version", "изменено", "changed")), conflict: true},
		{name: "unauthenticated", err: wire.E(wire.CodeUnauthenticated, "", "войдите", "sign in"), signedOut: true},
		{name: "terminal stream", err: fmt.Errorf("%w (4500)", client.ErrTerminal), signedOut: true},
		{name: "other", err: errors.New("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTOTPRequired(tt.err); got != tt.totp {
				t.Errorf("IsTOTPRequired = %v", got)
			}
			if got := IsConflict(tt.err); got != tt.conflict {
				t.Errorf("IsConflict = %v", got)
			}
			if got := IsSignedOut(tt.err); got != tt.signedOut {
				t.Errorf("IsSignedOut = %v", got)
			}
		})
	}
}

func TestStatusToneCoversEveryStatus(t *testing.T) {
	want := map[wire.Status]Tone{
		wire.StatusDraft: ToneNeutral, wire.StatusArchived: ToneNeutral,
		wire.StatusSubmitted: ToneActive, wire.StatusAwaitingPayment: ToneActive, wire.StatusInReview: ToneActive, wire.StatusConclusion: ToneActive,
		wire.StatusNeedsCorrection: ToneAttention, wire.StatusRemarksIssued: ToneAttention, wire.StatusAwaitingContract: ToneAttention,
		wire.StatusCompletedPositive: ToneSuccess,
		wire.StatusCompletedNegative: ToneFailure, wire.StatusReturned: ToneFailure, wire.StatusWithdrawn: ToneFailure,
	}
	for _, s := range wire.AllStatuses {
		w, ok := want[s]
		if !ok {
			t.Errorf("status %s has no expected tone in this test", s)
			continue
		}
		if got := StatusTone(s); got != w {
			t.Errorf("StatusTone(%s) = %v, want %v", s, got, w)
		}
	}
}

func TestRetryNetwork(t *testing.T) {
	netErr := fmt.Errorf("%w: reset", client.ErrNetwork)
	refused := wire.E(wire.CodeConflict, "version", "изменено", "changed")
	tests := []struct {
		name      string
		fails     []error // errors of successive attempts; then success
		wantCalls int
		wantErr   error
	}{
		{name: "success at once", wantCalls: 1},
		{name: "network then success", fails: []error{netErr}, wantCalls: 2},
		{name: "refusal is not retried", fails: []error{refused}, wantCalls: 1, wantErr: refused},
		{name: "gives up after the limit", fails: []error{netErr, netErr, netErr, netErr}, wantCalls: networkRetries, wantErr: client.ErrNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			_, err := retryNetwork(context.Background(), func() (int, error) {
				calls++
				if calls <= len(tt.fails) {
					return 0, tt.fails[calls-1]
				}
				return 1, nil
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTransitionNeedsCommentBeforeAnyRequest(t *testing.T) {
	// A signed-out workspace would refuse any request, so a comment error
	// proves the check ran first.
	w := NewWorkspace(quietLog(), NewSession(quietLog(), "dev", "host"), NewStore(quietLog()))
	for _, to := range []wire.Status{wire.StatusNeedsCorrection, wire.StatusReturned, wire.StatusRemarksIssued, wire.StatusCompletedNegative, wire.StatusWithdrawn} {
		_, err := w.Transition(context.Background(), 1, 1, to, "  ")
		if wire.ErrorCode(err) != wire.CodeCommentRequired {
			t.Errorf("Transition to %s without comment: %v, want comment_required", to, err)
		}
	}
	_, err := w.Transition(context.Background(), 1, 1, wire.StatusSubmitted, "")
	if wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Errorf("Transition to submitted while signed out: %v, want unauthenticated", err)
	}
}
