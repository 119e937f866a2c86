package service

import (
	"context"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Tariff returns the fee table (docs/tariff.md). It is public information
// of the expertise office: everyone signed in may read it.
func (s *Service) Tariff(ctx context.Context, p *Principal) (wire.Tariff, error) {
	if err := requireFull(p); err != nil {
		return wire.Tariff{}, err
	}
	return s.st.Read().Tariff(ctx)
}

// SetTariff replaces the fee table; administrators only. Contracts already
// offered keep the fee they were offered with.
func (s *Service) SetTariff(ctx context.Context, p *Principal, r wire.SetTariffRequest) (wire.Tariff, error) {
	if err := requireFull(p); err != nil {
		return wire.Tariff{}, err
	}
	if p.Role != wire.RoleAdmin {
		return wire.Tariff{}, errForbidden("Тариф изменяет администратор", "Only an administrator changes the tariff")
	}
	if err := wire.ValidateTariff(r.Rows); err != nil {
		return wire.Tariff{}, err
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Tariff, error) {
		before, err := tx.Tariff(ctx)
		if err != nil {
			return wire.Tariff{}, err
		}
		if err := tx.ReplaceTariff(ctx, r.Rows, r.Version, p.UserID); err != nil {
			return wire.Tariff{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "tariff_set", ObjectType: "tariff", ObjectID: "1",
			Details: map[string]any{"before": before.Rows, "after": r.Rows, "version": r.Version + 1}})
		return tx.Tariff(ctx)
	})
}
