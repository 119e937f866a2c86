package wire

import (
	"strconv"
	"strings"
)

// FormatKopecks writes an amount of kopecks as roubles the Russian way:
// groups of three digits separated by spaces, a decimal comma and always
// two kopeck digits — 123456789 → "1 234 567,89".
func FormatKopecks(k int64) string {
	sign := ""
	u := uint64(k)
	if k < 0 {
		sign, u = "-", uint64(-(k+1))+1 // safe for math.MinInt64
	}
	rub, kop := u/100, u%100
	digits := strconv.FormatUint(rub, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	b.WriteByte(',')
	if kop < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.FormatUint(kop, 10))
	return b.String()
}

// RubleForm is the form of «рубль» that goes with n: 1 рубль, 2 рубля,
// 5 рублей, 11 рублей, 21 рубль.
func RubleForm(n uint64) string { return PluralRU(n, "рубль", "рубля", "рублей") }

// AmountInWords writes an amount the way Russian payment documents do
// («сумма прописью»): roubles in words with a capital letter, kopecks in
// figures — 123456789 → «Один миллион двести тридцать четыре тысячи пятьсот
// шестьдесят семь рублей 89 копеек». A negative amount starts «Минус».
func AmountInWords(k int64) string {
	u := uint64(k)
	minus := k < 0
	if minus {
		u = uint64(-(k + 1)) + 1
	}
	rub, kop := u/100, u%100
	words := numberWords(rub, false)
	if minus {
		words = "минус " + words
	}
	kopText := strconv.FormatUint(kop, 10)
	if kop < 10 {
		kopText = "0" + kopText
	}
	s := words + " " + RubleForm(rub) + " " + kopText + " " + PluralRU(kop, "копейка", "копейки", "копеек")
	r := []rune(s)
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	return string(r)
}

var (
	onesMasc = [10]string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	onesFem  = [10]string{"", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	teensRU  = [10]string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
		"семнадцать", "восемнадцать", "девятнадцать"}
	tensRU     = [10]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}
	hundredsRU = [10]string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"}
	// scalesRU are the names of 10^3, 10^6 … with their three forms; only
	// «тысяча» is feminine.
	scalesRU = []struct {
		one, few, many string
		fem            bool
	}{
		{"тысяча", "тысячи", "тысяч", true},
		{"миллион", "миллиона", "миллионов", false},
		{"миллиард", "миллиарда", "миллиардов", false},
		{"триллион", "триллиона", "триллионов", false},
		{"квадриллион", "квадриллиона", "квадриллионов", false},
		{"квинтиллион", "квинтиллиона", "квинтиллионов", false},
	}
)

// numberWords writes n in Russian words, «ноль» for 0; fem makes the last
// group feminine (одна, две).
func numberWords(n uint64, fem bool) string {
	if n == 0 {
		return "ноль"
	}
	var groups []uint64 // least significant first
	for x := n; x > 0; x /= 1000 {
		groups = append(groups, x%1000)
	}
	var parts []string
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if i == 0 {
			parts = append(parts, tripletWords(g, fem)...)
			continue
		}
		sc := scalesRU[i-1]
		parts = append(parts, tripletWords(g, sc.fem)...)
		parts = append(parts, PluralRU(g, sc.one, sc.few, sc.many))
	}
	return strings.Join(parts, " ")
}

// tripletWords writes 1–999.
func tripletWords(n uint64, fem bool) []string {
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, hundredsRU[h])
	}
	rest := n % 100
	switch {
	case rest >= 10 && rest < 20:
		out = append(out, teensRU[rest-10])
	default:
		if t := rest / 10; t > 0 {
			out = append(out, tensRU[t])
		}
		if o := rest % 10; o > 0 {
			if fem {
				out = append(out, onesFem[o])
			} else {
				out = append(out, onesMasc[o])
			}
		}
	}
	return out
}

// PluralRU picks the Russian form for n: one (1, 21), few (2–4, 22–24),
// many (0, 5–20, 25…): PluralRU(42, "день", "дня", "дней") is «дня».
func PluralRU(n uint64, one, few, many string) string {
	if m := n % 100; m >= 11 && m <= 14 {
		return many
	}
	switch n % 10 {
	case 1:
		return one
	case 2, 3, 4:
		return few
	}
	return many
}
