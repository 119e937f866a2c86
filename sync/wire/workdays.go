package wire

import (
	"bytes"
	"fmt"
	"time"
)

// Deadline terms, in working days (DESIGN.md §1 Deadlines).
const (
	CompletenessDays        = 3  // completeness check, from submission
	ReviewDays              = 42 // review, from payment
	ReviewDaysEstimate      = 30 // review of a cost estimate only, from payment
	ExtensionDays           = 20 // one extension on the applicant's request
	DefaultAnswerCutoffDays = 5  // answers are refused this many working days before the review deadline
)

// ReviewTerm is the review term in working days for an expertise kind.
func ReviewTerm(k ExpertiseKind) int {
	if k == KindEstimate {
		return ReviewDaysEstimate
	}
	return ReviewDays
}

// moscow is fixed rather than loaded because tzdata may be missing on client
// machines, and Russia has kept UTC+3 without daylight saving since 2014.
var moscow = time.FixedZone("MSK", 3*3600)

// Date is a civil date. Deadlines are dates, not instants: a deadline of
// 2026-03-10 means the whole of that day in Moscow, wherever the user is.
// Its zero value means "no date" and is encoded in JSON as null.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date t falls on in Moscow.
func DateOf(t time.Time) Date {
	y, m, d := t.In(moscow).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, E(CodeInvalid, "date",
			fmt.Sprintf("неверная дата %q: ожидается ГГГГ-ММ-ДД", s),
			fmt.Sprintf("invalid date %q: want YYYY-MM-DD", s))
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// noon returns noon UTC of d: normalised, and far from any day boundary.
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.dayNumber() < e.dayNumber() }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.dayNumber() > e.dayNumber() }

// AddDays returns the date n calendar days after d (before it if n < 0).
func (d Date) AddDays(n int) Date {
	y, m, day := d.noon().AddDate(0, 0, n).Date()
	return Date{y, m, day}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noon().Weekday() }

// dayNumber counts days since 1970-01-01 (a Thursday).
func (d Date) dayNumber() int {
	return int(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// MarshalJSON encodes d as "2006-01-02", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = Date{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return E(CodeInvalid, "date", "дата должна быть строкой ГГГГ-ММ-ДД", "a date must be a YYYY-MM-DD string")
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Calendar knows which dates are working days: Monday to Friday, except
// holidays, plus weekend days declared working by a transfer. It is not
// changed after NewCalendar, so it is safe for concurrent use.
type Calendar struct {
	nonWorking map[Date]bool
	working    map[Date]bool
}

// NewCalendar builds a calendar from non-working dates (holidays and days off
// transferred onto weekdays) and working dates (weekend days made working by
// a transfer). A date in both lists is working: the transfer is the more
// specific decision. Listing a weekend as non-working is harmless.
func NewCalendar(nonWorking, working []Date) *Calendar {
	c := &Calendar{nonWorking: make(map[Date]bool, len(nonWorking)), working: make(map[Date]bool, len(working))}
	for _, d := range nonWorking {
		c.nonWorking[d.AddDays(0)] = true
	}
	for _, d := range working {
		c.working[d.AddDays(0)] = true
	}
	return c
}

// DefaultCalendar returns the official Russian non-working days for 2026 and
// 2027. The server keeps the calendar in a table an administrator edits and
// builds its Calendar from that with NewCalendar; this is the initial content.
func DefaultCalendar() *Calendar {
	days := func(y int, m time.Month, ds ...int) []Date {
		out := make([]Date, len(ds))
		for i, d := range ds {
			out[i] = Date{y, m, d}
		}
		return out
	}
	var off []Date
	for _, group := range [][]Date{
		// 2026, Government decree of September 2025: Sat 3 Jan moved to
		// Fri 9 Jan and Sun 4 Jan to Thu 31 Dec; no working Saturdays.
		days(2026, time.January, 1, 2, 3, 4, 5, 6, 7, 8, 9),
		days(2026, time.February, 23),
		days(2026, time.March, 9),   // 8 March is a Sunday
		days(2026, time.May, 1, 11), // 9 May is a Saturday
		days(2026, time.June, 12),
		days(2026, time.November, 4),
		days(2026, time.December, 31),
		// 2027: the statutory holidays and the moves the Labour Code makes
		// itself (a holiday on a weekend moves to the next working day).
		// The Government moves the January holidays that fall on a weekend
		// (Sat 2 and Sun 3 January) and may declare working Saturdays by a
		// decree published late in 2026: the administrator must enter those
		// transfers once it is out.
		days(2027, time.January, 1, 2, 3, 4, 5, 6, 7, 8),
		days(2027, time.February, 23),
		days(2027, time.March, 8),
		days(2027, time.May, 3, 10), // 1 May is a Saturday, 9 May a Sunday
		days(2027, time.June, 14),   // 12 June is a Saturday
		days(2027, time.November, 4),
	} {
		off = append(off, group...)
	}
	return NewCalendar(off, nil)
}

// IsWorkday reports whether d is a working day.
func (c *Calendar) IsWorkday(d Date) bool {
	d = d.AddDays(0)
	if c.working[d] {
		return true
	}
	if c.nonWorking[d] {
		return false
	}
	return isWeekday(d)
}

func isWeekday(d Date) bool {
	w := d.Weekday()
	return w != time.Saturday && w != time.Sunday
}

// AddWorkdays returns the date n working days after start, start itself not
// counted: with n = 0 it is start, even on a holiday. A negative n counts
// back, so AddWorkdays(deadline, -DefaultAnswerCutoffDays) is the date from
// which answers are refused.
func (c *Calendar) AddWorkdays(start Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	d := start
	for n > 0 {
		d = d.AddDays(step)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// WorkdaysUntil returns the working days left before the deadline to, seen
// on date from. When to is not before from it is the number of working days
// in (from, to]: 0 on the deadline day itself, and AddWorkdays(from, n)
// reaches to when to is a working day. When to is before from the deadline
// is missed and the result is minus the number of working days in (to, from],
// but at least 1 in magnitude, so every day after the deadline — a weekend
// too — reads as overdue: deadline Friday gives -1 from Saturday to Monday
// and -2 on Tuesday.
func (c *Calendar) WorkdaysUntil(from, to Date) int {
	if !to.Before(from) {
		return c.workdaysBetween(from, to)
	}
	return -max(1, c.workdaysBetween(to, from))
}

// workdaysBetween counts working days in (a, b], a <= b, without walking the
// range: a date from a client may be centuries away.
func (c *Calendar) workdaysBetween(a, b Date) int {
	an, bn := a.dayNumber(), b.dayNumber()
	n := weekdaysBefore(bn+1) - weekdaysBefore(an+1)
	for d := range c.nonWorking {
		if x := d.dayNumber(); x > an && x <= bn && isWeekday(d) && !c.working[d] {
			n--
		}
	}
	for d := range c.working {
		if x := d.dayNumber(); x > an && x <= bn && !isWeekday(d) {
			n++
		}
	}
	return n
}

// weekdaysBefore counts Mondays to Fridays from Monday 1969-12-29 (day -3)
// up to day n exclusive, negative for earlier n.
func weekdaysBefore(n int) int {
	m := n + 3
	weeks, rest := m/7, m%7
	if rest < 0 {
		weeks, rest = weeks-1, rest+7
	}
	return 5*weeks + min(rest, 5)
}

// DeadlineColour is how a deadline is shown in lists.
type DeadlineColour string

const (
	ColourGreen DeadlineColour = "green"
	ColourAmber DeadlineColour = "amber"
	ColourRed   DeadlineColour = "red"
)

// ColourFor colours a WorkdaysUntil result: red when overdue, amber when at
// most 5 working days are left (the deadline day itself included), else green.
func ColourFor(daysLeft int) DeadlineColour {
	switch {
	case daysLeft < 0:
		return ColourRed
	case daysLeft <= 5:
		return ColourAmber
	}
	return ColourGreen
}
