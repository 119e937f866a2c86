package wire

import (
	"math/big"
	"slices"
)

// QuoteFee computes the fee for an object of the given kind and declared
// construction cost with the tariff rows (docs/tariff.md). cost 0 means
// none was declared: the first bracket's base fee applies. Everything is
// integer arithmetic in kopecks; the one division of each step rounds half
// up. It fails only when the table has no bracket for the kind.
func QuoteFee(rows []TariffRow, kind ExpertiseKind, cost int64) (FeeQuote, error) {
	var best *TariffRow
	for i := range rows {
		r := &rows[i]
		if r.Kind != kind || r.CostFromKopecks > max(cost, 0) {
			continue
		}
		if best == nil || r.CostFromKopecks > best.CostFromKopecks {
			best = r
		}
	}
	if best == nil {
		return FeeQuote{}, E(CodeInternal, "tariff", "В тарифе нет ставки для «"+kind.Label()+"» — обратитесь к администратору",
			"The tariff has no bracket for "+string(kind)+" — ask an administrator")
	}
	q := FeeQuote{CostKopecks: max(cost, 0), Declared: cost > 0, Row: *best}
	above := big.NewInt(q.CostKopecks - best.CostFromKopecks)
	q.FeeKopecks = best.BaseKopecks + divRoundHalfUp(above.Mul(above, big.NewInt(best.RatePPM)), 1_000_000)
	q.VATKopecks = divRoundHalfUp(big.NewInt(0).Mul(big.NewInt(q.FeeKopecks), big.NewInt(VATPercent)), 100)
	q.TotalKopecks = q.FeeKopecks + q.VATKopecks
	return q, nil
}

// divRoundHalfUp divides a non-negative n by d, rounding halves up. The
// results fit int64 for every input within MaxCostKopecks.
func divRoundHalfUp(n *big.Int, d int64) int64 {
	bd := big.NewInt(d)
	q, r := new(big.Int).QuoRem(n, bd, new(big.Int))
	if r.Mul(r, big.NewInt(2)).Cmp(bd) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// SortTariff orders rows by kind (AllExpertiseKinds order) and bracket.
func SortTariff(rows []TariffRow) {
	slices.SortFunc(rows, func(a, b TariffRow) int {
		if a.Kind != b.Kind {
			return slices.Index(AllExpertiseKinds, a.Kind) - slices.Index(AllExpertiseKinds, b.Kind)
		}
		switch {
		case a.CostFromKopecks < b.CostFromKopecks:
			return -1
		case a.CostFromKopecks > b.CostFromKopecks:
			return 1
		}
		return 0
	})
}
