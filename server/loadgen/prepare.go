package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// Plan says what world Prepare builds for the simulated users.
type Plan struct {
	Users        int     // applicants and experts together
	ExpertsShare float64 // share of Users who are experts, 0 < share < 1
	// ApplicantsPerOrg applicants work for each organisation (the first
	// registers it); AppsPerOrg applications of each organisation are in
	// review; ExpertsPerApp experts are assigned to each (the first leads);
	// DocsPerApp PDF files are uploaded to each.
	ApplicantsPerOrg, AppsPerOrg, ExpertsPerApp, DocsPerApp int
	// Workers bounds the preparation running in parallel.
	Workers int
	Log     *slog.Logger
}

func (p *Plan) defaults() {
	if p.ExpertsShare <= 0 || p.ExpertsShare >= 1 {
		p.ExpertsShare = 0.2
	}
	if p.ApplicantsPerOrg <= 0 {
		p.ApplicantsPerOrg = 3
	}
	if p.AppsPerOrg <= 0 {
		p.AppsPerOrg = 2
	}
	if p.ExpertsPerApp <= 0 {
		p.ExpertsPerApp = 3
	}
	if p.DocsPerApp <= 0 {
		p.DocsPerApp = 2
	}
	if p.Workers <= 0 {
		p.Workers = 4
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
}

// layout is how many of each the plan makes.
type layout struct {
	Experts, Applicants, Orgs, Apps int
}

func (p Plan) layout() (layout, error) {
	p.defaults()
	if p.Users < 2 {
		return layout{}, fmt.Errorf("at least 2 users are needed (an applicant and an expert), got %d", p.Users)
	}
	e := int(float64(p.Users)*p.ExpertsShare + 0.5)
	e = min(max(e, 1), p.Users-1)
	a := p.Users - e
	orgs := (a + p.ApplicantsPerOrg - 1) / p.ApplicantsPerOrg
	return layout{Experts: e, Applicants: a, Orgs: orgs, Apps: orgs * p.AppsPerOrg}, nil
}

// Fixture is the prepared world: who the simulated users are (with their
// passwords and TOTP secrets) and what they work on. It is written to a
// file so a later run can reuse it; keep that file private.
type Fixture struct {
	RunID   string     `json:"run_id"`
	Users   []UserSpec `json:"users"`
	Apps    []AppSpec  `json:"apps"`
	Created time.Time  `json:"created"`
}

// UserSpec is one simulated user.
type UserSpec struct {
	ID         int64     `json:"id"`
	Login      string    `json:"login"`
	Password   string    `json:"password"`
	TOTPSecret string    `json:"totp_secret,omitempty"`
	Role       wire.Role `json:"role"`
	OrgID      int64     `json:"org_id,omitempty"`
}

// AppSpec is one application in review.
type AppSpec struct {
	ID          int64         `json:"id"`
	OrgID       int64         `json:"org_id"`
	Lead        int64         `json:"lead"`        // the lead expert: sends remarks (in_review → remarks_issued)
	Experts     []int64       `json:"experts"`     // every assigned expert, the lead first
	Responsible int64         `json:"responsible"` // the applicant who answers remarks (remarks_issued → in_review)
	Versions    []VersionSpec `json:"versions"`
}

// VersionSpec is one uploaded document version.
type VersionSpec struct {
	ID     int64           `json:"id"`
	SHA256 string          `json:"sha256"`
	Size   int64           `json:"size"`
	Pages  []wire.PageSize `json:"pages"`
}

// Save writes the fixture, readable by its owner only (it holds passwords).
func (f *Fixture) Save(path string) error {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// LoadFixture reads a fixture written by Save.
func LoadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	if len(f.Users) == 0 || len(f.Apps) == 0 {
		return nil, fmt.Errorf("fixture %s has no users or no applications", path)
	}
	return &f, nil
}

func randomPassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

func randomInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

// innFor completes organisation number n to a valid 10-digit ИНН.
func innFor(n int64) string {
	prefix := fmt.Sprintf("77%07d", n%10_000_000)
	w := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, c := range prefix {
		sum += int(c-'0') * w[i]
	}
	return prefix + fmt.Sprint(sum%11%10)
}

// ogrnFor completes organisation number n to a valid 13-digit ОГРН.
func ogrnFor(n int64) string {
	v := int64(102_700_000_000) + n%100_000_000
	return fmt.Sprintf("%d%d", v, v%11%10)
}

// Sections the experts are assigned to and the files are uploaded under.
var (
	reviewSections = []string{"07.03", "07.04", "07.08", "07.15", "07.05", "07.06", "07.07", "07.12", "07.14", "07.16"}
	docSections    = []string{"07.01", "07.02", "07.03", "07.04", "07.05", "07.06", "07.07", "07.08"}
)

// Prepare creates, through the service (as seed-demo does, so history,
// deadlines, contracts and the change log are what real use makes), the
// organisations, applicants, experts, a manager, and applications in
// review with assigned experts, uploaded PDFs and a first chat message in
// each channel. svc must have files enabled.
func Prepare(ctx context.Context, svc *service.Service, plan Plan) (*Fixture, error) {
	plan.defaults()
	lay, err := plan.layout()
	if err != nil {
		return nil, err
	}
	run := randomInt(4000)
	f := &Fixture{RunID: fmt.Sprintf("load%04d", run), Created: time.Now().UTC()}
	log := plan.Log.With("run", f.RunID)
	meta := service.ClientMeta{IP: "127.0.0.1", DeviceName: "expertiza-loadgen prepare"}
	began := time.Now()

	addStaff := func(login string, role wire.Role) (UserSpec, error) {
		u := UserSpec{Login: login, Password: randomPassword(), Role: role}
		res, err := svc.AddUser(ctx, nil, service.NewUserInput{Login: u.Login, Password: u.Password, FullName: fmt.Sprintf("Нагрузка %s", login),
			Email: login + "@load.example.ru", Role: role, TOTP: true})
		if err != nil {
			return u, fmt.Errorf("add %s %s: %w", role, login, err)
		}
		u.ID, u.TOTPSecret = res.User.ID, res.TOTPSecret
		return u, nil
	}
	manager, err := addStaff(f.RunID+"-manager", wire.RoleManager)
	if err != nil {
		return nil, err
	}

	// Users: each password is hashed with the server's real cost, which
	// dominates preparation; the workers spread it over the cores.
	experts := make([]UserSpec, lay.Experts)
	orgs := make([][]UserSpec, lay.Orgs) // applicants by organisation, the registrant first
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(plan.Workers)
	for i := range experts {
		g.Go(func() error {
			u, err := addStaff(fmt.Sprintf("%s-e%04d", f.RunID, i+1), wire.RoleExpert)
			experts[i] = u
			return err
		})
	}
	for o := range orgs {
		g.Go(func() error {
			n := min(plan.ApplicantsPerOrg, lay.Applicants-o*plan.ApplicantsPerOrg)
			num := run*2000 + int64(o)
			first := UserSpec{Login: fmt.Sprintf("%s-o%04d-a1", f.RunID, o+1), Password: randomPassword(), Role: wire.RoleApplicant}
			created, err := svc.Register(gctx, wire.RegisterRequest{Login: first.Login, Password: first.Password, FullName: "Заявитель нагрузочного теста",
				Email: first.Login + "@load.example.ru", Organisation: wire.OrganisationInput{Name: fmt.Sprintf("ООО «Нагрузка %s-%d»", f.RunID, o+1),
					INN: innFor(num), OGRN: ogrnFor(num), Address: "г. Москва, ул. Тестовая, д. 1"}}, meta)
			if err != nil {
				return fmt.Errorf("register organisation %d: %w", o+1, err)
			}
			full, err := svc.Store().Read().UserByID(gctx, created.ID)
			if err != nil {
				return err
			}
			if len(full.OrgIDs) != 1 {
				return fmt.Errorf("registrant %s belongs to %d organisations, want 1", first.Login, len(full.OrgIDs))
			}
			first.ID, first.OrgID = created.ID, full.OrgIDs[0]
			members := []UserSpec{first}
			for m := 2; m <= n; m++ {
				u := UserSpec{Login: fmt.Sprintf("%s-o%04d-a%d", f.RunID, o+1, m), Password: randomPassword(), Role: wire.RoleApplicant, OrgID: first.OrgID}
				res, err := svc.AddUser(gctx, nil, service.NewUserInput{Login: u.Login, Password: u.Password, FullName: "Сотрудник заявителя",
					Email: u.Login + "@load.example.ru", Role: wire.RoleApplicant, OrgID: first.OrgID})
				if err != nil {
					return fmt.Errorf("add applicant %s: %w", u.Login, err)
				}
				u.ID = res.User.ID
				members = append(members, u)
			}
			orgs[o] = members
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	log.Info("load users created", "experts", len(experts), "organisations", len(orgs), "took", time.Since(began).Round(time.Millisecond))

	principal := func(u UserSpec) *service.Principal {
		p := &service.Principal{UserID: u.ID, Login: u.Login, Name: u.Login, Role: u.Role, Scope: wire.ScopeFull, IP: "127.0.0.1"}
		if u.OrgID != 0 {
			p.OrgIDs = []int64{u.OrgID}
		}
		return p
	}
	apps := make([]AppSpec, lay.Apps)
	var mu sync.Mutex
	done := 0
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(plan.Workers)
	for k := range apps {
		g.Go(func() error {
			org := orgs[k/plan.AppsPerOrg]
			var assigned []int64
			for j := 0; j < min(plan.ExpertsPerApp, len(experts)); j++ {
				assigned = append(assigned, experts[(k*plan.ExpertsPerApp+j)%len(experts)].ID)
			}
			spec := AppSpec{OrgID: org[0].OrgID, Lead: assigned[0], Experts: assigned, Responsible: org[k%len(org)].ID}
			if err := prepareApp(gctx, svc, principal(org[0]), principal(manager), principal(experts[(k*plan.ExpertsPerApp)%len(experts)]),
				k, plan.DocsPerApp, f.RunID, &spec); err != nil {
				return fmt.Errorf("application %d: %w", k+1, err)
			}
			apps[k] = spec
			mu.Lock()
			done++
			if done%100 == 0 {
				log.Info("load applications prepared", "done", done, "of", len(apps))
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	f.Apps = apps
	f.Users = append(f.Users, experts...)
	for _, o := range orgs {
		f.Users = append(f.Users, o...)
	}
	log.Info("load world prepared", "users", len(f.Users), "applications", len(f.Apps), "took", time.Since(began).Round(time.Millisecond))
	return f, nil
}

// prepareApp takes one application from draft to in_review along the
// ordinary route and fills it in.
func prepareApp(ctx context.Context, svc *service.Service, appl, manager, lead *service.Principal, k, docs int, runID string, spec *AppSpec) error {
	obj := fmt.Sprintf("Жилой дом № %d (нагрузочный тест %s)", k+1, runID)
	addr := fmt.Sprintf("г. Москва, ул. Нагрузочная, вл. %d", k+1)
	kind, works, fin := wire.KindProjectDocs, wire.WorksConstruction, wire.FinancingNonBudget
	a, err := svc.CreateApplication(ctx, appl, wire.ApplicationInput{ObjectName: &obj, ObjectAddress: &addr, WorksKind: &works,
		ExpertiseKind: &kind, Financing: &fin})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	step := func(who *service.Principal, to wire.Status, comment string) error {
		a, err = svc.Transition(ctx, who, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to, Comment: comment})
		if err != nil {
			return fmt.Errorf("%s → %s: %w", a.Status, to, err)
		}
		return nil
	}
	if err := step(appl, wire.StatusSubmitted, ""); err != nil {
		return err
	}
	if err := step(manager, wire.StatusAwaitingContract, "Комплектность проверена"); err != nil {
		return err
	}
	var as []wire.Assignment
	for i, e := range spec.Experts {
		as = append(as, wire.Assignment{Section: reviewSections[i%len(reviewSections)], ExpertID: e})
	}
	if a, err = svc.Assign(ctx, manager, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: spec.Lead, Assignments: as}); err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	if err := step(appl, wire.StatusAwaitingPayment, "Договор принят"); err != nil {
		return err
	}
	if a, err = svc.RecordPayment(ctx, a.ID, fmt.Sprintf("п/п № %d", 100000+a.ID), "127.0.0.1"); err != nil {
		return fmt.Errorf("payment: %w", err)
	}
	if a.Status != wire.StatusInReview {
		return fmt.Errorf("after payment the application is %s, want in_review", a.Status)
	}
	spec.ID = a.ID
	for d := 0; d < docs; d++ {
		sec := docSections[d%len(docSections)]
		s, _ := wire.SectionByCode(sec)
		content := drawingPDF(4+(k*7+d*5)%21, fmt.Sprintf("%s app %d doc %d", runID, a.ID, d+1), (k+d)%3 == 0)
		sum := sha256.Sum256(content)
		up, err := svc.CreateUpload(ctx, appl, a.ID, wire.CreateUploadRequest{Section: sec, Name: s.Short, FileName: "Раздел " + s.Short + ".pdf",
			Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])})
		if err != nil {
			return fmt.Errorf("upload %s: %w", sec, err)
		}
		if _, err := svc.PutChunk(ctx, appl, up.ID, 0, bytes.NewReader(content)); err != nil {
			return fmt.Errorf("upload %s: %w", sec, err)
		}
		if up, err = svc.FinishUpload(ctx, appl, up.ID); err != nil {
			return fmt.Errorf("upload %s: %w", sec, err)
		}
		if up.State != "done" {
			return fmt.Errorf("upload %s ended %s: %s", sec, up.State, up.Error)
		}
	}
	ds, err := svc.Documents(ctx, appl, a.ID)
	if err != nil {
		return fmt.Errorf("documents: %w", err)
	}
	for _, d := range ds {
		for _, v := range d.Versions {
			spec.Versions = append(spec.Versions, VersionSpec{ID: v.ID, SHA256: v.SHA256, Size: v.Size, Pages: v.PageSizes})
		}
	}
	if len(spec.Versions) != docs {
		return fmt.Errorf("%d document versions listed after %d uploads", len(spec.Versions), docs)
	}
	for _, v := range spec.Versions {
		if len(v.Pages) == 0 {
			return fmt.Errorf("version %d has no page sizes: annotations need them", v.ID)
		}
	}
	if _, err := svc.PostMessage(ctx, appl, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant,
		Body: "Документация направлена на экспертизу, прошу подтвердить получение."}); err != nil {
		return fmt.Errorf("first message: %w", err)
	}
	if _, err := svc.PostMessage(ctx, lead, a.ID, wire.PostMessageRequest{Channel: wire.ChannelStaff,
		Body: "Коллеги, распределяю разделы; замечания — до конца недели."}); err != nil {
		return fmt.Errorf("first staff message: %w", err)
	}
	return nil
}

// drawingPDF is a valid PDF of n pages that looks like a drawing set: a
// frame, a title block and a few hundred line segments per page (so files
// weigh what small real ones do), A3 landscape when a3, else A4.
func drawingPDF(n int, title string, a3 bool) []byte {
	w, h := 595, 842
	if a3 {
		w, h = 1191, 842
	}
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.4\n")
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := 0; i < n; i++ {
		var c strings.Builder
		fmt.Fprintf(&c, "0.5 w 20 20 %d %d re S\n", w-40, h-40)
		fmt.Fprintf(&c, "BT /F1 10 Tf %d 40 Td (%s - sheet %d of %d) Tj ET\n", w-300, title, i+1, n)
		for j := 0; j < 400; j++ {
			x1, y1 := 30+(j*37+i*11)%(w-60), 60+(j*53+i*7)%(h-100)
			x2, y2 := 30+(j*71+i*13)%(w-60), 60+(j*29+i*17)%(h-100)
			fmt.Fprintf(&c, "%d %d m %d %d l S\n", x1, y1, x2, y2)
		}
		text := c.String()
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", w, h, 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(text), text))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// Settle waits until the background work that preparation queued on the
// server — contract, invoice and receipt PDFs of every application — is
// done, so that the measured run starts from a quiet server.
func Settle(ctx context.Context, svc *service.Service, timeout time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(timeout)
	for {
		var pending int
		if err := svc.Store().Pool().QueryRow(ctx, `SELECT count(*) FROM contract_documents WHERE sha256 IS NULL`).Scan(&pending); err != nil {
			return fmt.Errorf("count pending contract documents: %w", err)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d contract documents still not rendered after %v: is the server rendering them (see its log)?", pending, timeout)
		}
		if log != nil {
			log.Info("waiting for the server to render contract documents", "pending", pending)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("%d contract documents pending", pending))
		case <-time.After(2 * time.Second):
		}
	}
}
