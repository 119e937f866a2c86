package wire

import (
	"math"
	"strings"
	"testing"
)

func TestAmountInWords(t *testing.T) {
	for _, tc := range []struct {
		kopecks int64
		want    string
	}{
		{0, "Ноль рублей 00 копеек"},
		{1, "Ноль рублей 01 копейка"},
		{100, "Один рубль 00 копеек"},
		{202, "Два рубля 02 копейки"},
		{505, "Пять рублей 05 копеек"},
		{1100, "Одиннадцать рублей 00 копеек"},
		{1421, "Четырнадцать рублей 21 копейка"},
		{2100, "Двадцать один рубль 00 копеек"},
		{11200, "Сто двенадцать рублей 00 копеек"},
		{100000, "Одна тысяча рублей 00 копеек"},
		{200000, "Две тысячи рублей 00 копеек"},
		{500000, "Пять тысяч рублей 00 копеек"},
		{1100000, "Одиннадцать тысяч рублей 00 копеек"},
		{2100000, "Двадцать одна тысяча рублей 00 копеек"},
		{2200000, "Двадцать две тысячи рублей 00 копеек"},
		{18000000, "Сто восемьдесят тысяч рублей 00 копеек"},
		{100000000, "Один миллион рублей 00 копеек"},
		{123456789, "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей 89 копеек"},
		{200100000, "Два миллиона одна тысяча рублей 00 копеек"},
		{500000012, "Пять миллионов рублей 12 копеек"},
		{100000000000, "Один миллиард рублей 00 копеек"},
		{300000000100, "Три миллиарда один рубль 00 копеек"},
		{99999, "Девятьсот девяносто девять рублей 99 копеек"},
		{1_100_000_000_000_000, "Одиннадцать триллионов рублей 00 копеек"},
		{-150, "Минус один рубль 50 копеек"},
	} {
		if got := AmountInWords(tc.kopecks); got != tc.want {
			t.Errorf("AmountInWords(%d) = %q, want %q", tc.kopecks, got, tc.want)
		}
	}
	// The extremes do not panic and name their scale.
	if got := AmountInWords(math.MaxInt64); !strings.HasPrefix(got, "Девяносто два квадриллиона") {
		t.Errorf("AmountInWords(MaxInt64) = %q", got)
	}
	if got := AmountInWords(math.MinInt64); !strings.HasPrefix(got, "Минус девяносто два квадриллиона") {
		t.Errorf("AmountInWords(MinInt64) = %q", got)
	}
}

func TestFormatKopecks(t *testing.T) {
	for _, tc := range []struct {
		k    int64
		want string
	}{
		{0, "0,00"}, {5, "0,05"}, {100, "1,00"}, {99999, "999,99"}, {100000, "1 000,00"},
		{123456789, "1 234 567,89"}, {-123456, "-1 234,56"}, {100000000000, "1 000 000 000,00"},
	} {
		if got := FormatKopecks(tc.k); got != tc.want {
			t.Errorf("FormatKopecks(%d) = %q, want %q", tc.k, got, tc.want)
		}
	}
}

// defaultTariff mirrors the rows migration 00006 seeds.
func defaultTariff() []TariffRow {
	return []TariffRow{
		{KindProjectDocs, 0, 15000000, 3000}, {KindProjectDocs, 10000000000, 45000000, 2000}, {KindProjectDocs, 100000000000, 225000000, 1000},
		{KindProjectDocsAndSurvey, 0, 20000000, 3500}, {KindProjectDocsAndSurvey, 10000000000, 55000000, 2500},
		{KindProjectDocsAndSurvey, 100000000000, 280000000, 1200},
		{KindSurveys, 0, 8000000, 1000}, {KindSurveys, 100000000000, 108000000, 500},
		{KindEstimate, 0, 5000000, 800}, {KindEstimate, 100000000000, 85000000, 400},
	}
}

func TestQuoteFee(t *testing.T) {
	rows := defaultTariff()
	for _, tc := range []struct {
		name       string
		kind       ExpertiseKind
		cost       int64
		fee, vat   int64
		from       int64
		undeclared bool
	}{
		// 150 000 ₽ + 0.3 % of 50 млн = 300 000 ₽; VAT 60 000 ₽.
		{"first bracket", KindProjectDocs, 5_000_000_000, 30_000_000, 6_000_000, 0, false},
		// Exactly at a boundary the upper bracket applies, and agrees.
		{"boundary", KindProjectDocs, 10_000_000_000, 45_000_000, 9_000_000, 10_000_000_000, false},
		// 450 000 ₽ + 0.2 % of 150 млн = 750 000 ₽.
		{"second bracket", KindProjectDocs, 25_000_000_000, 75_000_000, 15_000_000, 10_000_000_000, false},
		// 50 000 ₽ + 0.08 % of 1 234 567,89 ₽ = 50 987,65 ₽ (987,654312 rounds down).
		{"rounding down", KindEstimate, 123_456_789, 5_098_765, 1_019_753, 0, false},
		// 0.1 % of 0,05 ₽ is 0,005 копейки·100 → 0.00005 rub: rounds to 0.
		{"tiny", KindSurveys, 5, 8_000_000, 1_600_000, 0, false},
		{"no cost declared", KindProjectDocsAndSurvey, 0, 20_000_000, 4_000_000, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := QuoteFee(rows, tc.kind, tc.cost)
			if err != nil {
				t.Fatal(err)
			}
			if q.FeeKopecks != tc.fee || q.VATKopecks != tc.vat || q.TotalKopecks != tc.fee+tc.vat || q.Row.CostFromKopecks != tc.from ||
				q.Declared == tc.undeclared {
				t.Errorf("QuoteFee = %+v, want fee %d vat %d from %d declared %v", q, tc.fee, tc.vat, tc.from, !tc.undeclared)
			}
		})
	}
	// Halves round up: 1 kopeck × 500 000 ppm = 0.5 → 1.
	half := []TariffRow{{KindSurveys, 0, 0, 500_000}}
	if q, _ := QuoteFee(half, KindSurveys, 1); q.FeeKopecks != 1 {
		t.Errorf("half a kopeck rounds to %d, want 1", q.FeeKopecks)
	}
	// VAT of 0,03 ₽ is 0,006 ₽ → 1 kopeck; of 0,02 ₽ 0,004 → 0.
	for fee, vat := range map[int64]int64{3: 1, 2: 0, 5: 1, 10: 2} {
		if q, _ := QuoteFee([]TariffRow{{KindSurveys, 0, fee, 0}}, KindSurveys, 1); q.VATKopecks != vat {
			t.Errorf("VAT of %d kopecks = %d, want %d", fee, q.VATKopecks, vat)
		}
	}
	// The largest cost and rate do not overflow.
	if q, err := QuoteFee([]TariffRow{{KindSurveys, 0, 0, 1_000_000}}, KindSurveys, MaxCostKopecks); err != nil || q.FeeKopecks != MaxCostKopecks {
		t.Errorf("max cost: %+v %v", q, err)
	}
	if _, err := QuoteFee(rows[:1], KindEstimate, 1); ErrorCode(err) != CodeInternal {
		t.Errorf("no bracket for the kind: %v", err)
	}
}

func TestValidateTariff(t *testing.T) {
	if err := ValidateTariff(defaultTariff()); err != nil {
		t.Fatalf("the default tariff is refused: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func([]TariffRow) []TariffRow
		field string
	}{
		{"unknown kind", func(r []TariffRow) []TariffRow { r[0].Kind = "bridges"; return r }, "rows[0].kind"},
		{"negative base", func(r []TariffRow) []TariffRow { r[1].BaseKopecks = -1; return r }, "rows[1].base_kopecks"},
		{"rate over 100 %", func(r []TariffRow) []TariffRow { r[2].RatePPM = 1_000_001; return r }, "rows[2].rate_ppm"},
		{"duplicate bracket", func(r []TariffRow) []TariffRow { return append(r, r[0]) }, "rows[10].cost_from_kopecks"},
		{"no zero bracket", func(r []TariffRow) []TariffRow { return r[1:] }, "rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateTariff(tc.edit(defaultTariff()))
			we, ok := AsError(err)
			if !ok || we.Code != CodeInvalid || we.Field != tc.field || we.Message == "" {
				t.Errorf("ValidateTariff = %v, want invalid on %s", err, tc.field)
			}
		})
	}
}

func BenchmarkAmountInWords(b *testing.B) {
	for i := range b.N {
		_ = AmountInWords(int64(i) * 123_456_789)
	}
}

func BenchmarkQuoteFee(b *testing.B) {
	rows := defaultTariff()
	for i := range b.N {
		if _, err := QuoteFee(rows, KindProjectDocs, int64(i)*1_000_003); err != nil {
			b.Fatal(err)
		}
	}
}
