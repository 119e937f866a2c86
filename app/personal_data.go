package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/expertiza/expertiza/sync/wire"
)

// PersonalData reads the user's own СНИЛС and passport, masked.
func (w *Workspace) PersonalData(ctx context.Context) (wire.PersonalData, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.PersonalData{}, err
	}
	pd, err := c.PersonalData(ctx)
	if err != nil {
		return wire.PersonalData{}, fmt.Errorf("read personal data: %w", err)
	}
	return pd, nil
}

// SetPersonalData saves the user's СНИЛС and passport number: a nil field
// is kept, an empty one cleared. Values are checked here first, with the
// server's own rules, so a typo is shown under its field without a round
// trip.
func (w *Workspace) SetPersonalData(ctx context.Context, r wire.SetPersonalDataRequest) (wire.PersonalData, error) {
	if r.SNILS != nil {
		v := strings.TrimSpace(*r.SNILS)
		if v != "" {
			if err := wire.ValidateSNILS(v); err != nil {
				return wire.PersonalData{}, err
			}
		}
		r.SNILS = &v
	}
	if r.Passport != nil {
		v := strings.TrimSpace(*r.Passport)
		if v != "" {
			if err := wire.ValidatePassport(v); err != nil {
				return wire.PersonalData{}, err
			}
		}
		r.Passport = &v
	}
	if r.SNILS == nil && r.Passport == nil {
		return wire.PersonalData{}, wire.E(wire.CodeInvalid, "snils", "Введите СНИЛС или паспорт — нечего сохранять", "Enter a SNILS or a passport — there is nothing to save")
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.PersonalData{}, err
	}
	pd, err := c.SetPersonalData(ctx, r)
	if err != nil {
		return wire.PersonalData{}, fmt.Errorf("save personal data: %w", err)
	}
	return pd, nil
}

// RevealPersonalData reads the user's own personal data in full. The
// server records every reveal in the audit journal; the values are kept
// on screen only, never in the local cache.
func (w *Workspace) RevealPersonalData(ctx context.Context) (wire.PersonalData, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.PersonalData{}, err
	}
	pd, err := c.RevealPersonalData(ctx)
	if err != nil {
		return wire.PersonalData{}, fmt.Errorf("reveal personal data: %w", err)
	}
	return pd, nil
}
