package wire

import (
	"math"
	"testing"
)

// TestRemarkTransitionsExhaustive walks every status × target × actor and
// compares the verdict with the table written out by hand here.
func TestRemarkTransitionsExhaustive(t *testing.T) {
	actors := map[string]RemarkActor{
		"member":      {Role: RoleApplicant, Member: true},
		"other":       {Role: RoleApplicant},
		"author":      {Role: RoleExpert, Author: true},
		"lead":        {Role: RoleExpert, Lead: true},
		"expert":      {Role: RoleExpert},
		"manager":     {Role: RoleManager},
		"admin":       {Role: RoleAdmin},
		"lead author": {Role: RoleExpert, Lead: true, Author: true},
	}
	type move struct{ from, to RemarkStatus }
	allowed := map[move][]string{
		{RemarkPublished, RemarkAnswered}: {"member"},
		{RemarkReopened, RemarkAnswered}:  {"member"},
		{RemarkAnswered, RemarkAccepted}:  {"author", "lead", "lead author"},
		{RemarkAnswered, RemarkReopened}:  {"author", "lead", "lead author"},
		{RemarkAccepted, RemarkClosed}:    {"author", "lead", "lead author"},
		{RemarkReopened, RemarkClosed}:    {"author", "lead", "lead author"},
	}
	for _, from := range AllRemarkStatuses {
		for _, to := range AllRemarkStatuses {
			who, exists := allowed[move{from, to}]
			for name, a := range actors {
				err := CheckRemarkTransition(from, to, a, "причина")
				may := false
				for _, w := range who {
					may = may || w == name
				}
				switch {
				case may && err != nil:
					t.Errorf("%s → %s by %s refused: %v", from, to, name, err)
				case !may && err == nil:
					t.Errorf("%s → %s by %s allowed", from, to, name)
				case !exists && ErrorCode(err) != CodeIllegalTransition:
					t.Errorf("%s → %s by %s: %v, want illegal_transition", from, to, name, err)
				case exists && !may && ErrorCode(err) != CodeForbidden:
					t.Errorf("%s → %s by %s: %v, want forbidden", from, to, name, err)
				}
			}
		}
	}
	if ErrorCode(CheckRemarkTransition(RemarkAnswered, RemarkReopened, actors["author"], " ")) != CodeCommentRequired {
		t.Error("reopening without a comment was not refused with comment_required")
	}
	if ErrorCode(CheckRemarkTransition(RemarkAnswered, "gone", actors["author"], "")) != CodeInvalid {
		t.Error("an unknown target status was not refused as invalid")
	}
}

func TestValidateGeometry(t *testing.T) {
	a4 := PageSize{W: 595, H: 842}
	r := func(x1, y1, x2, y2 float64) Geometry { return Geometry{Rect: &Rect{x1, y1, x2, y2}} }
	two := []Point{{0, 0}, {595, 842}}
	for _, tc := range []struct {
		name string
		kind AnnotationKind
		g    Geometry
		ok   bool
	}{
		{"rect edge to edge", AnnotRect, r(0, 0, 595, 842), true},
		{"rect NaN", AnnotRect, r(math.NaN(), 0, 10, 10), false},
		{"rect +Inf", AnnotEllipse, r(0, 0, math.Inf(1), 10), false},
		{"rect past the width", AnnotCloud, r(0, 0, 595.01, 10), false},
		{"zero-width rect", AnnotNote, r(5, 5, 5, 10), false},
		{"line corner to corner", AnnotLine, Geometry{Points: two}, true},
		{"arrow three points", AnnotArrow, Geometry{Points: append(two, Point{1, 1})}, false},
		{"highlight", AnnotHighlight, Geometry{Quads: []Quad{{0, 10, 10, 10, 0, 0, 10, 0}}}, true},
		{"highlight too many", AnnotHighlight, Geometry{Quads: make([]Quad, MaxQuads+1)}, false},
		{"ink", AnnotInk, Geometry{Ink: [][]Point{two}}, true},
		{"ink too many points", AnnotInk, Geometry{Ink: [][]Point{make([]Point, MaxInkPoints+1)}}, false},
		{"ink with a rect", AnnotInk, Geometry{Ink: [][]Point{two}, Rect: &Rect{0, 0, 1, 1}}, false},
		{"unknown kind", "square", r(0, 0, 1, 1), false},
	} {
		err := ValidateGeometry(tc.kind, tc.g, a4)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
		if we, isWire := AsError(err); err != nil && (!isWire || we.Message == "" || we.MessageEN == "") {
			t.Errorf("%s: %v is not a bilingual *Error", tc.name, err)
		}
	}
	b, ok := Geometry{Ink: [][]Point{{{3, 9}, {7, 1}}}, Points: []Point{{5, 20}}}.Bounds()
	if !ok || b != (Rect{3, 1, 7, 20}) {
		t.Errorf("Bounds = %+v %v", b, ok)
	}
}

func TestValidateColourAndRemarkText(t *testing.T) {
	for c, ok := range map[string]bool{"#a0b1c2": true, "#A0B1C2": false, "#fff": false, "red": false, "": false} {
		if (ValidateColour(c) == nil) != ok {
			t.Errorf("colour %q: ok=%v expected", c, ok)
		}
	}
	if err := ValidateRemarkText("Текст", "", CriticalityOrdinary, false); err != nil {
		t.Errorf("a draft without a norm: %v", err)
	}
	if err := ValidateRemarkText("Текст", "", CriticalityOrdinary, true); ErrorCode(err) != CodeInvalid {
		t.Errorf("publishing without a norm: %v, want invalid", err)
	}
}
