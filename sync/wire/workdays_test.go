package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func mustDate(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// TestCalendarWeekdays pins the weekdays the default calendar was written
// from, so a wrong assumption about the year fails here and not in a deadline.
func TestCalendarWeekdays(t *testing.T) {
	tests := []struct {
		date string
		want time.Weekday
	}{
		{"2026-01-01", time.Thursday}, {"2026-01-03", time.Saturday}, {"2026-01-04", time.Sunday},
		{"2026-01-09", time.Friday}, {"2026-02-23", time.Monday}, {"2026-03-08", time.Sunday},
		{"2026-03-09", time.Monday}, {"2026-05-01", time.Friday}, {"2026-05-09", time.Saturday},
		{"2026-05-11", time.Monday}, {"2026-06-12", time.Friday}, {"2026-11-04", time.Wednesday},
		{"2026-12-31", time.Thursday},
		{"2027-01-01", time.Friday}, {"2027-01-02", time.Saturday}, {"2027-01-03", time.Sunday},
		{"2027-02-23", time.Tuesday}, {"2027-03-08", time.Monday}, {"2027-05-01", time.Saturday},
		{"2027-05-03", time.Monday}, {"2027-05-09", time.Sunday}, {"2027-05-10", time.Monday},
		{"2027-06-12", time.Saturday}, {"2027-06-14", time.Monday}, {"2027-11-04", time.Thursday},
	}
	for _, tt := range tests {
		if got := mustDate(tt.date).Weekday(); got != tt.want {
			t.Errorf("%s is a %s, not a %s", tt.date, got, tt.want)
		}
	}
}

func TestDefaultCalendar(t *testing.T) {
	c := DefaultCalendar()
	// The official 2026 production calendar has 247 working days.
	if got := c.WorkdaysUntil(mustDate("2025-12-31"), mustDate("2026-12-31")); got != 247 {
		t.Errorf("2026 has %d working days, want 247", got)
	}
	tests := []struct {
		date    string
		workday bool
	}{
		{"2026-01-09", false}, {"2026-01-12", true}, {"2026-02-23", false}, {"2026-02-24", true},
		{"2026-03-09", false}, {"2026-05-11", false}, {"2026-05-12", true}, {"2026-11-04", false},
		{"2026-12-30", true}, {"2026-12-31", false}, {"2026-03-14", false},
		{"2027-01-08", false}, {"2027-01-11", true}, {"2027-05-03", false}, {"2027-05-10", false},
		{"2027-06-14", false}, {"2027-03-08", false}, {"2027-03-09", true},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(mustDate(tt.date)); got != tt.workday {
			t.Errorf("IsWorkday(%s) = %v, want %v", tt.date, got, tt.workday)
		}
	}
}

func TestAddWorkdays(t *testing.T) {
	def := DefaultCalendar()
	// 2026-03-14 is a Saturday made working; 2026-03-18 a Wednesday holiday
	// that is also declared working, which wins.
	custom := NewCalendar([]Date{mustDate("2026-03-17"), mustDate("2026-03-18")}, []Date{mustDate("2026-03-14"), mustDate("2026-03-18")})
	tests := []struct {
		name  string
		cal   *Calendar
		start string
		n     int
		want  string
	}{
		{"n=0", def, "2026-03-11", 0, "2026-03-11"},
		{"n=0 on a holiday stays", def, "2026-01-01", 0, "2026-01-01"},
		{"next day", def, "2026-03-11", 1, "2026-03-12"},
		{"over a weekend", def, "2026-03-13", 1, "2026-03-16"},
		{"from a Saturday", def, "2026-03-14", 1, "2026-03-16"},
		{"New Year 2026", def, "2025-12-31", 1, "2026-01-12"},
		{"inside the holidays", def, "2026-01-05", 3, "2026-01-14"},
		{"New Year 2027", def, "2026-12-30", 1, "2027-01-11"},
		{"completeness check", def, "2026-12-29", CompletenessDays, "2027-01-12"},
		{"May 2026, first holiday", def, "2026-04-30", 1, "2026-05-04"},
		{"May 2026, both holidays", def, "2026-04-30", 6, "2026-05-12"},
		{"May 2027", def, "2027-04-30", 1, "2027-05-04"},
		{"Defender of the Fatherland Day", def, "2026-02-20", 1, "2026-02-24"},
		{"review term", def, "2026-02-02", ReviewDays, "2026-04-03"},
		{"back one", def, "2026-05-12", -1, "2026-05-08"},
		{"back over New Year", def, "2027-01-11", -1, "2026-12-30"},
		{"answer cutoff", def, "2026-04-03", -DefaultAnswerCutoffDays, "2026-03-27"},
		{"working Saturday", custom, "2026-03-13", 1, "2026-03-14"},
		{"working wins over holiday", custom, "2026-03-16", 1, "2026-03-18"},
		{"no default holidays", NewCalendar(nil, nil), "2025-12-31", 1, "2026-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.AddWorkdays(mustDate(tt.start), tt.n); got != mustDate(tt.want) {
				t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tt.start, tt.n, got, tt.want)
			}
		})
	}
}

func TestWorkdaysUntil(t *testing.T) {
	def := DefaultCalendar()
	tests := []struct {
		name     string
		from, to string
		want     int
	}{
		{"deadline today", "2026-03-13", "2026-03-13", 0},
		{"tomorrow", "2026-03-12", "2026-03-13", 1},
		{"over a weekend", "2026-03-13", "2026-03-16", 1},
		{"seen on a Sunday", "2026-03-15", "2026-03-16", 1},
		{"May holidays", "2026-04-30", "2026-05-12", 6},
		{"New Year", "2026-12-30", "2027-01-11", 1},
		{"review term", "2026-02-02", "2026-04-03", ReviewDays},
		{"Saturday after a Friday deadline", "2026-03-14", "2026-03-13", -1},
		{"Sunday after", "2026-03-15", "2026-03-13", -1},
		{"Monday after", "2026-03-16", "2026-03-13", -1},
		{"Tuesday after", "2026-03-17", "2026-03-13", -2},
		{"over New Year", "2027-01-11", "2026-12-30", -1},
		{"first holiday after", "2026-12-31", "2026-12-30", -1},
		{"a week late", "2026-03-20", "2026-03-13", -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := def.WorkdaysUntil(mustDate(tt.from), mustDate(tt.to)); got != tt.want {
				t.Errorf("WorkdaysUntil(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// TestWorkdaysUntilMatchesWalking checks the arithmetic count against walking
// day by day, across years on both sides of 1970 and with transfers.
func TestWorkdaysUntilMatchesWalking(t *testing.T) {
	cals := map[string]*Calendar{
		"default": DefaultCalendar(),
		"custom":  NewCalendar([]Date{mustDate("1969-12-31"), mustDate("1970-01-03"), mustDate("2026-03-17")}, []Date{mustDate("1970-01-04"), mustDate("2026-03-14"), mustDate("2026-03-17")}),
	}
	for name, c := range cals {
		for _, start := range []string{"1969-12-20", "2025-12-20", "2026-02-25", "2026-12-15"} {
			from := mustDate(start)
			for i := 0; i < 40; i++ {
				to := from.AddDays(i)
				walked := 0
				for x := from.AddDays(1); !x.After(to); x = x.AddDays(1) {
					if c.IsWorkday(x) {
						walked++
					}
				}
				if got := c.WorkdaysUntil(from, to); got != walked {
					t.Fatalf("%s: WorkdaysUntil(%s, %s) = %d, walking gives %d", name, from, to, got, walked)
				}
				if c.IsWorkday(to) && c.AddWorkdays(from, walked) != to {
					t.Fatalf("%s: AddWorkdays(%s, %d) != %s", name, from, walked, to)
				}
			}
		}
	}
}

func TestDate(t *testing.T) {
	if got := DateOf(time.Date(2025, 12, 31, 21, 0, 0, 0, time.UTC)); got != mustDate("2026-01-01") {
		t.Errorf("midnight in Moscow: got %s", got)
	}
	if got := DateOf(time.Date(2025, 12, 31, 20, 59, 59, 0, time.UTC)); got != mustDate("2025-12-31") {
		t.Errorf("a second before: got %s", got)
	}
	vladivostok := time.FixedZone("VLAT", 10*3600)
	if got := DateOf(time.Date(2026, 3, 2, 6, 0, 0, 0, vladivostok)); got != mustDate("2026-03-01") {
		t.Errorf("early morning in Vladivostok is the day before in Moscow: got %s", got)
	}
	if got := mustDate("2028-03-01").AddDays(-1); got != (Date{2028, time.February, 29}) {
		t.Errorf("leap day: got %s", got)
	}
	if a, b := mustDate("2026-12-31"), mustDate("2027-01-01"); !a.Before(b) || a.After(b) || !b.After(a) || a.Before(a) || a.After(a) {
		t.Error("Before/After wrong")
	}
	if got := (Date{987, time.March, 5}).String(); got != "0987-03-05" {
		t.Errorf("String() = %q", got)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Due  Date  `json:"due"`
		Opt  *Date `json:"opt,omitempty"`
		None Date  `json:"none"`
	}
	due := mustDate("2026-05-12")
	in := doc{Due: due, Opt: &due}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"due":"2026-05-12","opt":"2026-05-12","none":null}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Due != in.Due || out.Opt == nil || *out.Opt != due || !out.None.IsZero() {
		t.Errorf("round trip: got %+v", out)
	}
	for _, bad := range []string{`"2026-02-30"`, `"2026-1-5"`, `"12.05.2026"`, `20260512`, `""`, `"2026-05-12T00:00:00Z"`} {
		var v Date
		err := json.Unmarshal([]byte(bad), &v)
		if e, ok := AsError(err); !ok || e.Code != CodeInvalid {
			t.Errorf("Unmarshal(%s): want CodeInvalid, got %v", bad, err)
		}
	}
}

func TestColourFor(t *testing.T) {
	tests := []struct {
		days int
		want DeadlineColour
	}{
		{-30, ColourRed}, {-1, ColourRed}, {0, ColourAmber}, {1, ColourAmber},
		{5, ColourAmber}, {6, ColourGreen}, {42, ColourGreen},
	}
	for _, tt := range tests {
		if got := ColourFor(tt.days); got != tt.want {
			t.Errorf("ColourFor(%d) = %s, want %s", tt.days, got, tt.want)
		}
	}
}

func TestReviewTerm(t *testing.T) {
	for k, want := range map[ExpertiseKind]int{
		KindEstimate: 30, KindProjectDocs: 42, KindSurveys: 42, KindProjectDocsAndSurvey: 42,
	} {
		if got := ReviewTerm(k); got != want {
			t.Errorf("ReviewTerm(%s) = %d, want %d", k, got, want)
		}
	}
}
