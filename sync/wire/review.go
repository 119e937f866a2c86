package wire

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the review part of the protocol (DESIGN.md §1 "Remarks"
// and "Annotations"): experts' annotations on PDF pages, the remarks
// register, its answers and the notices that publish remarks.
//
// Coordinates are points (1/72 in) of the page as displayed: the visible
// box (crop box ∩ media box) with the page's /Rotate applied, origin at its
// bottom-left corner, y upwards — the frame the server checks geometry
// against (PageSize). On an unrotated page whose boxes start at 0,0 this is
// PDF user space; otherwise the export (pdfannot) converts each point to
// user space, and the viewer (app/pdfrender: top-left origin, y down)
// flips y.

// AnnotationKind is the shape of an annotation.
type AnnotationKind string

const (
	AnnotHighlight AnnotationKind = "highlight" // text highlight: quads
	AnnotRect      AnnotationKind = "rect"      // rectangle: rect
	AnnotCloud     AnnotationKind = "cloud"     // cloud-bordered rectangle: rect
	AnnotEllipse   AnnotationKind = "ellipse"   // ellipse inscribed in rect
	AnnotArrow     AnnotationKind = "arrow"     // arrow: points[0] → points[1]
	AnnotLine      AnnotationKind = "line"      // line: two points
	AnnotNote      AnnotationKind = "note"      // free-text note in rect; text required
	AnnotInk       AnnotationKind = "ink"       // freehand: ink strokes
)

// AllAnnotationKinds lists every kind, in the order a toolbar shows them.
var AllAnnotationKinds = []AnnotationKind{AnnotHighlight, AnnotRect, AnnotCloud, AnnotEllipse, AnnotArrow, AnnotLine, AnnotNote, AnnotInk}

// Valid reports whether k is known.
func (k AnnotationKind) Valid() bool {
	for _, x := range AllAnnotationKinds {
		if x == k {
			return true
		}
	}
	return false
}

// AnnotationStatus is where an annotation stands in the experts' work.
type AnnotationStatus string

const (
	AnnotOpen     AnnotationStatus = "open"
	AnnotResolved AnnotationStatus = "resolved"
	AnnotRejected AnnotationStatus = "rejected"
)

// AllAnnotationStatuses lists every status.
var AllAnnotationStatuses = []AnnotationStatus{AnnotOpen, AnnotResolved, AnnotRejected}

// Valid reports whether s is known.
func (s AnnotationStatus) Valid() bool {
	return s == AnnotOpen || s == AnnotResolved || s == AnnotRejected
}

// Point is a position on a page in PDF points.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Rect is an axis-aligned box in PDF points: (X1,Y1) lower-left,
// (X2,Y2) upper-right.
type Rect struct {
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
	X2 float64 `json:"x2"`
	Y2 float64 `json:"y2"`
}

// Quad is one highlighted text fragment as four corners in PDF /QuadPoints
// order: x1 y1 (upper-left), x2 y2 (upper-right), x3 y3 (lower-left),
// x4 y4 (lower-right).
type Quad [8]float64

// Geometry is the shape of an annotation; which field is used depends on
// the kind (see AnnotationKind), the others stay empty.
type Geometry struct {
	Rect   *Rect     `json:"rect,omitempty"`
	Quads  []Quad    `json:"quads,omitempty"`
	Points []Point   `json:"points,omitempty"`
	Ink    [][]Point `json:"ink,omitempty"`
}

// Bounds is the smallest Rect containing the geometry (ok false when it is
// empty).
func (g Geometry) Bounds() (Rect, bool) {
	var xs, ys []float64
	if g.Rect != nil {
		xs, ys = append(xs, g.Rect.X1, g.Rect.X2), append(ys, g.Rect.Y1, g.Rect.Y2)
	}
	for _, q := range g.Quads {
		for i := 0; i < 8; i += 2 {
			xs, ys = append(xs, q[i]), append(ys, q[i+1])
		}
	}
	for _, p := range g.Points {
		xs, ys = append(xs, p.X), append(ys, p.Y)
	}
	for _, s := range g.Ink {
		for _, p := range s {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	if len(xs) == 0 {
		return Rect{}, false
	}
	r := Rect{X1: xs[0], Y1: ys[0], X2: xs[0], Y2: ys[0]}
	for i := range xs {
		r.X1, r.X2 = math.Min(r.X1, xs[i]), math.Max(r.X2, xs[i])
		r.Y1, r.Y2 = math.Min(r.Y1, ys[i]), math.Max(r.Y2, ys[i])
	}
	return r, true
}

// Limits of annotations and remarks; they bound what one row may cost to
// store, send and draw.
const (
	MaxAnnotationTextRunes = 4000
	MaxReplyRunes          = 4000
	MaxQuads               = 500   // highlight fragments of one annotation
	MaxInkStrokes          = 200   // strokes of one ink annotation
	MaxInkPoints           = 20000 // points over all strokes
	MaxRemarkTextRunes     = 10000
	MaxNormRefRunes        = 500
	MaxAnswerRunes         = 10000
	MaxAnswerVersions      = 50
	MaxNoticeRemarks       = 1000
)

var colourRE = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// DefaultAnnotationColour is used when a request names none.
const DefaultAnnotationColour = "#ff0000"

// ValidateColour checks a "#rrggbb" colour (lowercase hex).
func ValidateColour(c string) error {
	if !colourRE.MatchString(c) {
		return E(CodeInvalid, "color", "Цвет задаётся как #rrggbb строчными шестнадцатеричными цифрами, например #ff0000; получено «"+c+"»",
			"A colour is #rrggbb in lowercase hex, e.g. #ff0000; got "+fmt.Sprintf("%q", c))
	}
	return nil
}

// ValidateGeometry checks that g suits kind and lies, with finite
// coordinates, inside a page of size page (PDF points).
func ValidateGeometry(kind AnnotationKind, g Geometry, page PageSize) error {
	if !kind.Valid() {
		return E(CodeInvalid, "kind", "Неизвестный вид пометки «"+string(kind)+"»: highlight, rect, cloud, ellipse, arrow, line, note или ink",
			"Unknown annotation kind "+fmt.Sprintf("%q", kind)+": highlight, rect, cloud, ellipse, arrow, line, note or ink")
	}
	bad := func(ru, en string) error {
		return E(CodeInvalid, "geometry", "Геометрия пометки «"+string(kind)+"»: "+ru, "Geometry of a "+string(kind)+" annotation: "+en)
	}
	in := func(x, y float64) bool {
		return !math.IsNaN(x) && !math.IsNaN(y) && !math.IsInf(x, 0) && !math.IsInf(y, 0) &&
			x >= 0 && y >= 0 && x <= page.W && y <= page.H
	}
	outside := func() error {
		return bad(fmt.Sprintf("координаты должны быть конечными числами в пределах страницы 0…%.2f × 0…%.2f пт (начало — левый нижний угол)", page.W, page.H),
			fmt.Sprintf("coordinates must be finite numbers within the page, 0…%.2f × 0…%.2f pt (origin at the bottom-left corner)", page.W, page.H))
	}
	only := func(rect, quads, points, ink bool) error {
		var extra []string
		if !rect && g.Rect != nil {
			extra = append(extra, "rect")
		}
		if !quads && len(g.Quads) > 0 {
			extra = append(extra, "quads")
		}
		if !points && len(g.Points) > 0 {
			extra = append(extra, "points")
		}
		if !ink && len(g.Ink) > 0 {
			extra = append(extra, "ink")
		}
		if len(extra) > 0 {
			return bad("лишние поля "+strings.Join(extra, ", ")+" — уберите их", "extra fields "+strings.Join(extra, ", ")+" — remove them")
		}
		return nil
	}
	switch kind {
	case AnnotRect, AnnotCloud, AnnotEllipse, AnnotNote:
		if err := only(true, false, false, false); err != nil {
			return err
		}
		r := g.Rect
		if r == nil {
			return bad("нужен прямоугольник rect {x1,y1,x2,y2}", "a rect {x1,y1,x2,y2} is required")
		}
		if !in(r.X1, r.Y1) || !in(r.X2, r.Y2) {
			return outside()
		}
		if r.X2 <= r.X1 || r.Y2 <= r.Y1 {
			return bad("x2 должен быть больше x1, а y2 — больше y1 (левый нижний и правый верхний углы)",
				"x2 must exceed x1 and y2 exceed y1 (lower-left and upper-right corners)")
		}
	case AnnotHighlight:
		if err := only(false, true, false, false); err != nil {
			return err
		}
		if len(g.Quads) == 0 || len(g.Quads) > MaxQuads {
			return bad(fmt.Sprintf("нужно от 1 до %d четырёхугольников quads", MaxQuads), fmt.Sprintf("1 to %d quads are required", MaxQuads))
		}
		for _, q := range g.Quads {
			for i := 0; i < 8; i += 2 {
				if !in(q[i], q[i+1]) {
					return outside()
				}
			}
		}
	case AnnotArrow, AnnotLine:
		if err := only(false, false, true, false); err != nil {
			return err
		}
		if len(g.Points) != 2 {
			return bad("нужны ровно две точки points: начало и конец", "exactly two points are required: start and end")
		}
		for _, p := range g.Points {
			if !in(p.X, p.Y) {
				return outside()
			}
		}
		if g.Points[0] == g.Points[1] {
			return bad("начало и конец совпадают", "start and end coincide")
		}
	case AnnotInk:
		if err := only(false, false, false, true); err != nil {
			return err
		}
		if len(g.Ink) == 0 || len(g.Ink) > MaxInkStrokes {
			return bad(fmt.Sprintf("нужно от 1 до %d штрихов ink", MaxInkStrokes), fmt.Sprintf("1 to %d ink strokes are required", MaxInkStrokes))
		}
		total := 0
		for _, s := range g.Ink {
			if len(s) < 2 {
				return bad("в каждом штрихе не меньше двух точек", "every stroke needs at least two points")
			}
			total += len(s)
			for _, p := range s {
				if !in(p.X, p.Y) {
					return outside()
				}
			}
		}
		if total > MaxInkPoints {
			return bad(fmt.Sprintf("не больше %d точек во всех штрихах — упростите рисунок", MaxInkPoints),
				fmt.Sprintf("at most %d points over all strokes — simplify the drawing", MaxInkPoints))
		}
	}
	return nil
}

// ValidateAnnotationText checks an annotation's text for its kind.
func ValidateAnnotationText(kind AnnotationKind, text string) error {
	if utf8.RuneCountInString(text) > MaxAnnotationTextRunes {
		return E(CodeTooLarge, "text", fmt.Sprintf("Текст пометки длиннее %d символов — сократите его", MaxAnnotationTextRunes),
			fmt.Sprintf("The annotation text is over %d characters — shorten it", MaxAnnotationTextRunes))
	}
	if kind == AnnotNote && strings.TrimSpace(text) == "" {
		return E(CodeInvalid, "text", "У текстовой заметки должен быть текст", "A note needs text")
	}
	return nil
}

// Annotation is one expert's mark on a page of a document version. It is
// an internal working mark of the staff: applicants never receive it.
type Annotation struct {
	ID         int64             `json:"id"`
	AppID      int64             `json:"app_id"`
	VersionID  int64             `json:"version_id"`  // the document version (document_versions.id)
	DocumentID int64             `json:"document_id"` // its logical file
	Page       int               `json:"page"`        // 1-based
	Kind       AnnotationKind    `json:"kind"`
	Geometry   Geometry          `json:"geometry"`
	Color      string            `json:"color"` // #rrggbb
	Text       string            `json:"text,omitempty"`
	Status     AnnotationStatus  `json:"status"`
	AuthorID   int64             `json:"author_id"`
	AuthorName string            `json:"author_name"`
	Replies    []AnnotationReply `json:"replies"`
	Version    int64             `json:"version"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// AnnotationReply is one comment in an annotation's thread.
type AnnotationReply struct {
	ID           int64     `json:"id"`
	AnnotationID int64     `json:"annotation_id"`
	AppID        int64     `json:"app_id"`
	AuthorID     int64     `json:"author_id"`
	AuthorName   string    `json:"author_name"`
	Text         string    `json:"text"`
	CreatedAt    time.Time `json:"created_at"`
}

// AnnotationGone is the data of annotation.delete.
type AnnotationGone struct {
	ID        int64 `json:"id"`
	AppID     int64 `json:"app_id"`
	VersionID int64 `json:"version_id"`
}

// CreateAnnotationRequest marks a page of a version.
type CreateAnnotationRequest struct {
	Page     int            `json:"page"`
	Kind     AnnotationKind `json:"kind"`
	Geometry Geometry       `json:"geometry"`
	Color    string         `json:"color,omitempty"` // DefaultAnnotationColour when empty
	Text     string         `json:"text,omitempty"`
}

// UpdateAnnotationRequest changes the non-nil fields of an annotation the
// caller saw at Version; page and kind never change.
type UpdateAnnotationRequest struct {
	Version  int64     `json:"version"`
	Geometry *Geometry `json:"geometry,omitempty"`
	Color    *string   `json:"color,omitempty"`
	Text     *string   `json:"text,omitempty"`
}

// AnnotationStatusRequest sets an annotation's status.
type AnnotationStatusRequest struct {
	Version int64            `json:"version"`
	Status  AnnotationStatus `json:"status"`
}

// ReplyRequest adds a comment to an annotation's thread.
type ReplyRequest struct {
	Text string `json:"text"`
}

// ValidateReply checks a reply's text.
func ValidateReply(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return E(CodeInvalid, "text", "Пустой ответ: напишите текст", "Empty reply: write some text")
	case utf8.RuneCountInString(text) > MaxReplyRunes:
		return E(CodeTooLarge, "text", fmt.Sprintf("Ответ длиннее %d символов — сократите его", MaxReplyRunes),
			fmt.Sprintf("The reply is over %d characters — shorten it", MaxReplyRunes))
	}
	return nil
}

// --- remarks ---

// Criticality of a remark.
type Criticality string

const (
	CriticalityCritical Criticality = "critical" // существенное: blocks a positive conclusion
	CriticalityOrdinary Criticality = "ordinary"
)

// Valid reports whether c is known.
func (c Criticality) Valid() bool { return c == CriticalityCritical || c == CriticalityOrdinary }

// Label is the Russian label, as letters and registers print it.
func (c Criticality) Label() string {
	switch c {
	case CriticalityCritical:
		return "Существенное"
	case CriticalityOrdinary:
		return "Несущественное"
	}
	return string(c)
}

// RemarkStatus is where a remark stands.
type RemarkStatus string

const (
	RemarkDraft     RemarkStatus = "draft"     // private to its author (and the lead expert)
	RemarkPublished RemarkStatus = "published" // sent to the applicant in a notice
	RemarkAnswered  RemarkStatus = "answered"  // the applicant answered
	RemarkAccepted  RemarkStatus = "accepted"  // the expert accepts the answer
	RemarkReopened  RemarkStatus = "reopened"  // the answer is not enough: answer again
	RemarkClosed    RemarkStatus = "closed"
)

// AllRemarkStatuses lists every status in the order of the process.
var AllRemarkStatuses = []RemarkStatus{RemarkDraft, RemarkPublished, RemarkAnswered, RemarkAccepted, RemarkReopened, RemarkClosed}

// Valid reports whether s is known.
func (s RemarkStatus) Valid() bool {
	for _, x := range AllRemarkStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label is the Russian label.
func (s RemarkStatus) Label() string {
	switch s {
	case RemarkDraft:
		return "Черновик"
	case RemarkPublished:
		return "Направлено"
	case RemarkAnswered:
		return "Получен ответ"
	case RemarkAccepted:
		return "Ответ принят"
	case RemarkReopened:
		return "Возвращено на доработку"
	case RemarkClosed:
		return "Снято"
	}
	return string(s)
}

// RemarkSectionLabel names a remark's section as letters and registers
// print it: the classifier code with its abbreviation («07.03 АР»), or
// «Документы заявления» for the application's supporting documents.
func RemarkSectionLabel(code string) string {
	if sec, ok := SectionByCode(code); ok {
		return sec.Code + " " + sec.Short
	}
	if code == SectionSupporting {
		return "Документы заявления"
	}
	return code
}

// RemarkAnchor places a remark on a page of its document version: a
// rectangle, the annotation it came from, or both (the rectangle is then
// the annotation's bounds, so applicants, who never see annotations, still
// see where).
type RemarkAnchor struct {
	Page         int   `json:"page"`
	Rect         *Rect `json:"rect,omitempty"`
	AnnotationID int64 `json:"annotation_id,omitempty"` // an id applicants cannot open
}

// Remark is one item of the remarks register.
type Remark struct {
	ID          int64          `json:"id"`
	AppID       int64          `json:"app_id"`
	Number      int            `json:"number,omitempty"` // per application, given on publication
	Section     string         `json:"section"`
	VersionID   int64          `json:"version_id,omitempty"` // the document version it is about; 0: the section as a whole
	Anchor      *RemarkAnchor  `json:"anchor,omitempty"`
	Text        string         `json:"text"`
	NormRef     string         `json:"norm_ref"` // e.g. "СП 54.13330.2022 п. 5.3"
	Criticality Criticality    `json:"criticality"`
	AuthorID    int64          `json:"author_id"`
	AuthorName  string         `json:"author_name"`
	Status      RemarkStatus   `json:"status"`
	Resolution  string         `json:"resolution,omitempty"` // the expert's comment on the last accept/reopen/close
	NoticeID    int64          `json:"notice_id,omitempty"`  // the notice that first published it
	PublishedAt *time.Time     `json:"published_at,omitempty"`
	Answers     []RemarkAnswer `json:"answers"`
	Version     int64          `json:"version"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// RemarkAnswer is the applicant's answer to a remark with the corrected
// document versions.
type RemarkAnswer struct {
	ID         int64     `json:"id"`
	RemarkID   int64     `json:"remark_id"`
	Text       string    `json:"text"`
	VersionIDs []int64   `json:"version_ids"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	CreatedAt  time.Time `json:"created_at"`
}

// RemarkGone is the data of remark.delete (a draft deleted).
type RemarkGone struct {
	ID    int64 `json:"id"`
	AppID int64 `json:"app_id"`
}

// EventNoticeLetter announces that a notice's PDF letter is stored and can
// be downloaded (GET /notices/{id}/letter); it goes to the notice's
// audience, as notice.published does. Data: Notice with LetterSHA256 set.
const EventNoticeLetter EventKind = "notice.letter"

// Notice is a published batch of remarks (уведомление о замечаниях). The
// server renders its PDF letter after the publication commits;
// LetterSHA256 is empty until then, and notice.letter announces it.
type Notice struct {
	ID              int64     `json:"id"`
	AppID           int64     `json:"app_id"`
	Number          int       `json:"number"` // 1, 2, … per application
	Comment         string    `json:"comment"`
	RemarkIDs       []int64   `json:"remark_ids"`
	PublishedBy     int64     `json:"published_by"`
	PublishedByName string    `json:"published_by_name"`
	PublishedAt     time.Time `json:"published_at"`
	LetterSHA256    string    `json:"letter_sha256,omitempty"`
}

// CreateRemarkRequest creates a draft remark: from an annotation
// (AnnotationID; version, page and rectangle come from it), anchored to a
// page (VersionID, Page, optional Rect), about a version as a whole
// (VersionID) or about a section (Section only).
type CreateRemarkRequest struct {
	Section      string      `json:"section,omitempty"` // defaults to the version's section
	VersionID    int64       `json:"version_id,omitempty"`
	AnnotationID int64       `json:"annotation_id,omitempty"`
	Page         int         `json:"page,omitempty"`
	Rect         *Rect       `json:"rect,omitempty"`
	Text         string      `json:"text"`
	NormRef      string      `json:"norm_ref,omitempty"`
	Criticality  Criticality `json:"criticality"`
}

// UpdateRemarkRequest edits the non-nil fields of the caller's own draft.
type UpdateRemarkRequest struct {
	Version     int64        `json:"version"`
	Text        *string      `json:"text,omitempty"`
	NormRef     *string      `json:"norm_ref,omitempty"`
	Criticality *Criticality `json:"criticality,omitempty"`
}

// AnswerRemarkRequest is the applicant's answer to a published (or
// reopened) remark.
type AnswerRemarkRequest struct {
	Version    int64   `json:"version"`
	Text       string  `json:"text"`
	VersionIDs []int64 `json:"version_ids,omitempty"` // corrected document versions of the same application
}

// RemarkStatusRequest is an expert's verdict on an answered remark:
// accepted, reopened (comment required) or closed.
type RemarkStatusRequest struct {
	Version int64        `json:"version"`
	Status  RemarkStatus `json:"status"`
	Comment string       `json:"comment,omitempty"`
}

// PublishRemarksRequest is the lead expert's publication of drafts (and
// re-sending of reopened remarks) as one notice; the application, seen at
// Version, moves to remarks_issued.
type PublishRemarksRequest struct {
	Version   int64   `json:"version"`
	RemarkIDs []int64 `json:"remark_ids"`
	Comment   string  `json:"comment,omitempty"` // the status change comment; generated when empty
}

// ValidateRemarkText checks a remark's text, normative reference and
// criticality; published remarks (publishing true) need the reference.
func ValidateRemarkText(text, normRef string, c Criticality, publishing bool) error {
	switch {
	case strings.TrimSpace(text) == "":
		return E(CodeInvalid, "text", "Напишите текст замечания", "Write the remark's text")
	case utf8.RuneCountInString(text) > MaxRemarkTextRunes:
		return E(CodeTooLarge, "text", fmt.Sprintf("Текст замечания длиннее %d символов — сократите его", MaxRemarkTextRunes),
			fmt.Sprintf("The remark is over %d characters — shorten it", MaxRemarkTextRunes))
	case utf8.RuneCountInString(normRef) > MaxNormRefRunes:
		return E(CodeTooLarge, "norm_ref", fmt.Sprintf("Ссылка на норматив длиннее %d символов", MaxNormRefRunes),
			fmt.Sprintf("The normative reference is over %d characters", MaxNormRefRunes))
	case !c.Valid():
		return E(CodeInvalid, "criticality", "Критичность замечания: critical (существенное) или ordinary (несущественное)",
			"Remark criticality: critical or ordinary")
	case publishing && strings.TrimSpace(normRef) == "":
		return E(CodeInvalid, "norm_ref", "Перед направлением заявителю укажите ссылку на норматив, например «СП 54.13330.2022 п. 5.3»",
			"Give the normative reference before publishing, e.g. \"СП 54.13330.2022 п. 5.3\"")
	}
	return nil
}

// RemarkActor is who acts on a remark, relative to it.
type RemarkActor struct {
	Role   Role
	Member bool // applicant of the application's organisation
	Author bool // the remark's author
	Lead   bool // the application's lead expert
}

type remarkRule struct {
	from, to RemarkStatus
	ru, en   string // who may, for refusals
	may      func(RemarkActor) bool
	comment  bool
}

var (
	remarkByApplicant = func(a RemarkActor) bool { return a.Role == RoleApplicant && a.Member }
	remarkByExpert    = func(a RemarkActor) bool { return a.Role == RoleExpert && (a.Author || a.Lead) }
)

// remarkRules is the one table of remark moves; publication (draft →
// published) is the notice command and not in it.
var remarkRules = []remarkRule{
	{RemarkPublished, RemarkAnswered, "заявитель", "the applicant", remarkByApplicant, false},
	{RemarkReopened, RemarkAnswered, "заявитель", "the applicant", remarkByApplicant, false},
	{RemarkAnswered, RemarkAccepted, "автор замечания или ведущий эксперт", "the remark's author or the lead expert", remarkByExpert, false},
	{RemarkAnswered, RemarkReopened, "автор замечания или ведущий эксперт", "the remark's author or the lead expert", remarkByExpert, true},
	{RemarkAccepted, RemarkClosed, "автор замечания или ведущий эксперт", "the remark's author or the lead expert", remarkByExpert, false},
	{RemarkReopened, RemarkClosed, "автор замечания или ведущий эксперт", "the remark's author or the lead expert", remarkByExpert, false},
}

// CheckRemarkTransition returns nil when a may move a remark from → to
// (with comment), else an *Error saying why not.
func CheckRemarkTransition(from, to RemarkStatus, a RemarkActor, comment string) error {
	if !to.Valid() {
		return E(CodeInvalid, "status", "Неизвестный статус замечания «"+string(to)+"»", "Unknown remark status "+fmt.Sprintf("%q", to))
	}
	move := "«" + from.Label() + "» → «" + to.Label() + "»"
	moveEN := string(from) + " → " + string(to)
	for _, r := range remarkRules {
		if r.from != from || r.to != to {
			continue
		}
		if !r.may(a) {
			return E(CodeForbidden, "", "Переход замечания "+move+" выполняет "+r.ru, "Only "+r.en+" may move a remark "+moveEN)
		}
		if r.comment && strings.TrimSpace(comment) == "" {
			return E(CodeCommentRequired, "comment", "Для перехода замечания "+move+" укажите, что не устроило в ответе",
				"Moving a remark "+moveEN+" requires a comment saying what is missing")
		}
		return nil
	}
	var next []string
	for _, r := range remarkRules {
		if r.from == from {
			next = append(next, string(r.to))
		}
	}
	if len(next) == 0 {
		return E(CodeIllegalTransition, "status", "Из статуса «"+from.Label()+"» замечание никуда не переходит", "A remark in "+string(from)+" does not move on")
	}
	return E(CodeIllegalTransition, "status", "Переход замечания "+move+" невозможен; из этого статуса: "+strings.Join(next, ", "),
		"A remark cannot move "+moveEN+"; from there: "+strings.Join(next, ", "))
}
