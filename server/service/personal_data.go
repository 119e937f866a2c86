package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Personal data fields, as named in the additional data of their
// ciphertexts and in audit details.
const (
	pdSNILS    = "snils"
	pdPassport = "passport"
)

// WithPersonalData gives the service the key ring personal data is sealed
// with. Without it personal data can be neither stored nor read.
func WithPersonalData(keys *PDKeys) Option { return func(s *Service) { s.pd = keys } }

func (s *Service) requirePD() error {
	if s.pd == nil {
		// A configuration fault, not the caller's: boot always gives a key.
		return errors.New("personal data: no key configured (EXPERTIZA_PD_KEY or the key file under --data)")
	}
	return nil
}

// plainPD is a user's personal data in the clear, as normalised digits.
type plainPD struct {
	snils, passport string
}

func (s *Service) openPD(r store.PersonalDataRow) (plainPD, error) {
	var out plainPD
	if r.SNILS != nil {
		b, err := s.pd.Open(r.UserID, pdSNILS, r.SNILS)
		if err != nil {
			return out, err
		}
		out.snils = string(b)
	}
	if r.Passport != nil {
		b, err := s.pd.Open(r.UserID, pdPassport, r.Passport)
		if err != nil {
			return out, err
		}
		out.passport = string(b)
	}
	return out, nil
}

func (s *Service) sealPD(userID int64, field, value string) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	return s.pd.Seal(userID, field, []byte(value))
}

func masked(userID int64, pd plainPD) wire.PersonalData {
	return wire.PersonalData{UserID: userID, SNILS: wire.MaskSNILS(pd.snils), Passport: wire.MaskPassport(pd.passport)}
}

func revealed(userID int64, pd plainPD) wire.PersonalData {
	return wire.PersonalData{UserID: userID, SNILS: wire.FormatSNILS(pd.snils), Passport: wire.FormatPassport(pd.passport), Revealed: true}
}

func (s *Service) readPD(ctx context.Context, userID int64) (plainPD, error) {
	if err := s.requirePD(); err != nil {
		return plainPD{}, err
	}
	row, err := s.st.Read().PersonalData(ctx, userID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return plainPD{}, errNotFound("пользователь", "user")
	}
	if err != nil {
		return plainPD{}, err
	}
	return s.openPD(row)
}

// PersonalData returns userID's personal data, masked. Everyone reads
// their own; managers and administrators read anyone's (a manager checks
// that an expert's СНИЛС is on file), and that look is audited.
func (s *Service) PersonalData(ctx context.Context, p *Principal, userID int64) (wire.PersonalData, error) {
	if err := requireFull(p); err != nil {
		return wire.PersonalData{}, err
	}
	if userID != p.UserID && p.Role != wire.RoleManager && p.Role != wire.RoleAdmin {
		return wire.PersonalData{}, errForbidden("Персональные данные других пользователей видят менеджеры и администраторы",
			"Only managers and administrators see other users' personal data")
	}
	pd, err := s.readPD(ctx, userID)
	if err != nil {
		return wire.PersonalData{}, err
	}
	if userID != p.UserID {
		if err := s.auditAccess(ctx, p, wire.AuditPersonalDataView, "user", itoa(userID), map[string]any{"masked": true}); err != nil {
			return wire.PersonalData{}, err
		}
	}
	return masked(userID, pd), nil
}

// RevealPersonalData returns userID's personal data in full: to the user
// themself and to administrators. Every reveal is audited as access to
// personal data, before the values leave the server.
func (s *Service) RevealPersonalData(ctx context.Context, p *Principal, userID int64) (wire.PersonalData, error) {
	if err := requireFull(p); err != nil {
		return wire.PersonalData{}, err
	}
	if userID != p.UserID && p.Role != wire.RoleAdmin {
		return wire.PersonalData{}, errForbidden("Полные персональные данные другого пользователя может открыть только администратор",
			"Only administrators may reveal another user's personal data")
	}
	pd, err := s.readPD(ctx, userID)
	if err != nil {
		return wire.PersonalData{}, err
	}
	var fields []string
	if pd.snils != "" {
		fields = append(fields, pdSNILS)
	}
	if pd.passport != "" {
		fields = append(fields, pdPassport)
	}
	if err := s.auditAccess(ctx, p, wire.AuditPersonalDataReveal, "user", itoa(userID), map[string]any{"fields": fields}); err != nil {
		return wire.PersonalData{}, err
	}
	return revealed(userID, pd), nil
}

// SetPersonalData sets the caller's own СНИЛС and passport number. Values
// are validated (the СНИЛС checksum, the passport's 10 digits), sealed
// and stored; the journal records which fields changed, never the values.
// It takes no idempotency key: the key's record would keep a hash of the
// request body, and a СНИЛС is small enough to guess from its hash.
// Setting the same values twice is harmless anyway.
func (s *Service) SetPersonalData(ctx context.Context, p *Principal, r wire.SetPersonalDataRequest) (wire.PersonalData, error) {
	if err := requireFull(p); err != nil {
		return wire.PersonalData{}, err
	}
	if err := s.requirePD(); err != nil {
		return wire.PersonalData{}, err
	}
	if r.SNILS == nil && r.Passport == nil {
		return wire.PersonalData{}, wire.E(wire.CodeInvalid, "", "Укажите СНИЛС или паспорт — нечего сохранять", "Give a SNILS or a passport — there is nothing to save")
	}
	var snils, passport string
	if r.SNILS != nil {
		if v := strings.TrimSpace(*r.SNILS); v != "" {
			d, err := wire.NormalizeSNILS(v)
			if err != nil {
				return wire.PersonalData{}, err
			}
			snils = d
		}
	}
	if r.Passport != nil {
		if v := strings.TrimSpace(*r.Passport); v != "" {
			d, err := wire.NormalizePassport(v)
			if err != nil {
				return wire.PersonalData{}, err
			}
			passport = d
		}
	}
	return write(ctx, s, nil, func(tx *store.Tx) (wire.PersonalData, error) {
		row, err := tx.PersonalDataForUpdate(ctx, p.UserID)
		if err != nil {
			return wire.PersonalData{}, err
		}
		cur, err := s.openPD(row)
		if err != nil {
			return wire.PersonalData{}, err
		}
		changed := map[string]any{}
		change := func(field string, given *string, value string, old *string, sealed *[]byte) error {
			if given == nil || value == *old {
				return nil
			}
			b, err := s.sealPD(p.UserID, field, value)
			if err != nil {
				return err
			}
			*sealed, *old = b, value
			changed[field] = map[bool]string{true: "cleared", false: "set"}[value == ""]
			return nil
		}
		if err := errors.Join(change(pdSNILS, r.SNILS, snils, &cur.snils, &row.SNILS),
			change(pdPassport, r.Passport, passport, &cur.passport, &row.Passport)); err != nil {
			return wire.PersonalData{}, fmt.Errorf("seal personal data: %w", err)
		}
		if len(changed) > 0 {
			if err := tx.SetPersonalData(ctx, row); err != nil {
				return wire.PersonalData{}, err
			}
			tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Device: p.Device, Action: wire.AuditPersonalDataSet,
				ObjectType: "user", ObjectID: itoa(p.UserID), Details: changed})
		}
		return masked(p.UserID, cur), nil
	})
}

// ReencryptPersonalData seals every stored value that is not under the
// current key again under it (after a key rotation) and reports how many
// users' data it rewrote. Old keys must stay in the ring until it has run.
func (s *Service) ReencryptPersonalData(ctx context.Context) (int, error) {
	if err := s.requirePD(); err != nil {
		return 0, err
	}
	rows, err := s.st.Read().PersonalDataRows(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		stale := (r.SNILS != nil && !s.pd.SealedWithCurrent(r.SNILS)) || (r.Passport != nil && !s.pd.SealedWithCurrent(r.Passport))
		if !stale {
			continue
		}
		if _, err := write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
			row, err := tx.PersonalDataForUpdate(ctx, r.UserID)
			if err != nil {
				return struct{}{}, err
			}
			pd, err := s.openPD(row)
			if err != nil {
				return struct{}{}, err
			}
			if row.SNILS, err = s.sealPD(r.UserID, pdSNILS, pd.snils); err != nil {
				return struct{}{}, err
			}
			if row.Passport, err = s.sealPD(r.UserID, pdPassport, pd.passport); err != nil {
				return struct{}{}, err
			}
			tx.Audit(store.AuditEntry{ActorLogin: "system", Action: "personal_data_rekey", ObjectType: "user", ObjectID: itoa(r.UserID),
				Details: map[string]any{"key": s.pd.CurrentID()}})
			return struct{}{}, tx.SetPersonalData(ctx, row)
		}); err != nil {
			return n, fmt.Errorf("re-encrypt personal data of user %d: %w", r.UserID, err)
		}
		n++
	}
	return n, nil
}
