package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/sync/wire"
)

var at = time.Date(2026, 12, 28, 7, 30, 0, 0, time.UTC) // 10:30 in Moscow

func statusItem() mail.Item {
	return mail.Item{Kind: wire.NotifyRemark, Title: "Статус: Направлены замечания",
		Body: "Заявление ГГЭ-2026-000001 («Жилой дом»): Проведение экспертизы → Направлены замечания.", At: at,
		AppID: 1, AppNumber: "ГГЭ-2026-000001", AppObject: "Жилой дом", AppStatus: wire.StatusRemarksIssued}
}

func TestInstant(t *testing.T) {
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang        mail.Lang
		subject     string
		textHas     []string
		htmlHas     []string
		notInText   []string
		description string
	}{
		{lang: mail.LangRU, subject: "[Экспертиза] Статус: Направлены замечания — ГГЭ-2026-000001",
			textHas:   []string{"Здравствуйте, Иванов Иван!", "Текущий статус: Направлены замечания", "Вид уведомления: Замечания и ответы", "Время: 28.12.2026 10:30 МСК", "Проведение экспертизы → Направлены замечания"},
			htmlHas:   []string{`<html lang="ru">`, "Иванов Иван", "28.12.2026 10:30 МСК", "«Жилой дом»"},
			notInText: []string{"Hello", "{{"}},
		{lang: mail.LangEN, subject: "[Expertiza] Remarks and answers — ГГЭ-2026-000001: Remarks issued",
			textHas:   []string{"Hello, Иванов Иван,", "Current status: Remarks issued", "Time: 28 Dec 2026 10:30 MSK", "in Russian", "Статус: Направлены замечания"},
			htmlHas:   []string{`<html lang="en">`, "Remarks issued", `<blockquote lang="ru"`},
			notInText: []string{"Здравствуйте", "{{"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang), func(t *testing.T) {
			c, err := r.Instant(mail.Recipient{Name: "Иванов Иван", Address: "i@example.ru", Lang: tt.lang}, statusItem())
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", c.Subject, tt.subject)
			}
			for _, s := range tt.textHas {
				if !strings.Contains(c.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, c.Text)
				}
			}
			for _, s := range tt.notInText {
				if strings.Contains(c.Text, s) {
					t.Errorf("text has %q:\n%s", s, c.Text)
				}
			}
			for _, s := range tt.htmlHas {
				if !strings.Contains(c.HTML, s) {
					t.Errorf("HTML lacks %q:\n%s", s, c.HTML)
				}
			}
		})
	}
}

func TestInstantEscapesHTMLAndFoldsSubject(t *testing.T) {
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	it := mail.Item{Kind: wire.NotifyMessage, Title: "Сообщение\r\nBcc: victim@example.ru", Body: `<script>alert("x")</script> & ещё`, At: at}
	c, err := r.Instant(mail.Recipient{Name: "<b>Имя</b>", Lang: mail.LangRU}, it)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(c.Subject, "\r\n") {
		t.Errorf("subject keeps a line break: %q", c.Subject)
	}
	if strings.Contains(c.HTML, "<script>") || strings.Contains(c.HTML, "<b>Имя</b>") || !strings.Contains(c.HTML, "&lt;script&gt;") {
		t.Errorf("HTML does not escape user text:\n%s", c.HTML)
	}
	if !strings.Contains(c.Text, `<script>alert("x")</script> & ещё`) {
		t.Errorf("text part should keep the text as is:\n%s", c.Text)
	}
	if strings.Contains(c.Text, "Заявление:") {
		t.Errorf("a notification without an application shows one:\n%s", c.Text)
	}
}

func TestDigestGroupsByApplication(t *testing.T) {
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	a1 := func(title string, h int) mail.Item {
		it := statusItem()
		it.Title, it.At = title, at.Add(time.Duration(h)*time.Hour)
		return it
	}
	a2 := mail.Item{Kind: wire.NotifyMessage, Title: "Сообщение по заявлению ГГЭ-2026-000002", Body: "Эксперт: добрый день", At: at.Add(2 * time.Hour),
		AppID: 2, AppNumber: "ГГЭ-2026-000002", AppObject: "Школа", AppStatus: wire.StatusInReview}
	dev := mail.Item{Kind: wire.NotifyNewDevice, Title: "Вход с нового устройства", At: at.Add(3 * time.Hour)}
	items := []mail.Item{a1("Первое", 0), a2, a1("Второе", 4), dev, a1("Третье", 5)}
	tests := []struct {
		lang    mail.Lang
		mode    wire.EmailMode
		subject string
		has     []string
	}{
		{mail.LangRU, wire.EmailDaily, "[Экспертиза] Сводка за день: 5 уведомлений",
			[]string{"Заявление ГГЭ-2026-000001 «Жилой дом», статус «Направлены замечания» — 3 уведомления:",
				"Заявление ГГЭ-2026-000002 «Школа», статус «Проведение экспертизы» — 1 уведомление:",
				"Учётная запись — 1 уведомление:", "с 28.12.2026 10:30 МСК по 28.12.2026 15:30 МСК"}},
		{mail.LangEN, wire.EmailWeekly, "[Expertiza] Weekly digest: 5 notifications",
			[]string{"Application ГГЭ-2026-000001 “Жилой дом”, status: Remarks issued — 3 notifications:",
				"Application ГГЭ-2026-000002 “Школа”, status: Under review — 1 notification:",
				"Your account — 1 notification:", "Sign-in from a new device: Вход с нового устройства"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang), func(t *testing.T) {
			c, err := r.Digest(mail.Recipient{Name: "Петров", Lang: tt.lang}, tt.mode, items)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", c.Subject, tt.subject)
			}
			for _, s := range tt.has {
				if !strings.Contains(c.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, c.Text)
				}
			}
			// Each notification once, in order within its group.
			for _, title := range []string{"Первое", "Второе", "Третье", "Эксперт: добрый день"} {
				if n := strings.Count(c.Text, title); n != 1 {
					t.Errorf("text has %q %d times", title, n)
				}
				if n := strings.Count(c.HTML, title); n != 1 {
					t.Errorf("HTML has %q %d times", title, n)
				}
			}
			if i, j, k := strings.Index(c.Text, "Первое"), strings.Index(c.Text, "Второе"), strings.Index(c.Text, "Третье"); !(i < j && j < k) {
				t.Errorf("items of a group out of order:\n%s", c.Text)
			}
		})
	}
	if _, err := r.Digest(mail.Recipient{}, wire.EmailDaily, nil); err == nil {
		t.Error("an empty digest rendered")
	}
}

func TestRussianPlural(t *testing.T) {
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n    int
		want string
	}{{1, "1 уведомление"}, {2, "2 уведомления"}, {4, "4 уведомления"}, {5, "5 уведомлений"}, {11, "11 уведомлений"},
		{14, "14 уведомлений"}, {21, "21 уведомление"}, {22, "22 уведомления"}, {111, "111 уведомлений"}, {101, "101 уведомление"}}
	for _, tt := range tests {
		items := make([]mail.Item, tt.n)
		for i := range items {
			items[i] = mail.Item{Kind: wire.NotifyDeadline, Title: "Срок", At: at}
		}
		c, err := r.Digest(mail.Recipient{Lang: mail.LangRU}, wire.EmailDaily, items)
		if err != nil {
			t.Fatal(err)
		}
		if want := "[Экспертиза] Сводка за день: " + tt.want; c.Subject != want {
			t.Errorf("n=%d: subject %q, want %q", tt.n, c.Subject, want)
		}
	}
}
