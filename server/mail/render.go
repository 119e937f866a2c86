package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/expertiza/expertiza/assets"
	"github.com/expertiza/expertiza/sync/wire"
)

//go:embed templates
var templateFS embed.FS

// moscow is the time zone of every date in the mails, as of the deadlines
// (Moscow has kept UTC+3 without daylight saving since 2014).
var moscow = time.FixedZone("MSK", 3*3600)

// Recipient is who a message goes to.
type Recipient struct {
	Name    string
	Address string
	Lang    Lang
}

// Item is one notification as the mails show it. Title and Body are the
// notification's own text, which the service writes in Russian; the mail's
// frame (subject, greeting, labels, dates) follows the recipient's language.
type Item struct {
	Kind      wire.NotificationKind
	Title     string
	Body      string
	At        time.Time
	AppID     int64 // 0: not about an application (a sign-in from a new device)
	AppNumber string
	AppObject string
	AppStatus wire.Status
}

// Content is a rendered message body.
type Content struct {
	Subject string
	Text    string
	HTML    string
}

// Renderer fills the embedded templates.
type Renderer struct {
	text   map[Lang]*texttemplate.Template
	html   map[Lang]*htmltemplate.Template
	labels map[Lang]map[string]string // the interface translations: status.*, notify.kind.*
}

// NewRenderer parses the templates and loads the labels.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{text: map[Lang]*texttemplate.Template{}, html: map[Lang]*htmltemplate.Template{}, labels: map[Lang]map[string]string{}}
	for _, l := range []Lang{LangRU, LangEN} {
		b, err := assets.Translations.ReadFile("translations/" + string(l) + ".json")
		if err != nil {
			return nil, fmt.Errorf("labels %s: %w", l, err)
		}
		// Plural entries are objects; only plain strings are labels.
		raw := map[string]json.RawMessage{}
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("labels %s: %w", l, err)
		}
		m := map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				m[k] = s
			}
		}
		r.labels[l] = m
		funcs := r.funcs(l)
		tt, err := texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*_"+string(l)+".txt")
		if err != nil {
			return nil, fmt.Errorf("text templates %s: %w", l, err)
		}
		ht, err := htmltemplate.New("").Funcs(htmltemplate.FuncMap(funcs)).ParseFS(templateFS, "templates/*_"+string(l)+".html")
		if err != nil {
			return nil, fmt.Errorf("HTML templates %s: %w", l, err)
		}
		r.text[l], r.html[l] = tt, ht
	}
	return r, nil
}

func (r *Renderer) funcs(l Lang) map[string]any {
	return map[string]any{
		"kind":   func(k wire.NotificationKind) string { return r.label(l, "notify.kind."+string(k), string(k)) },
		"status": func(s wire.Status) string { return r.label(l, "status."+string(s), string(s)) },
		"time":   func(t time.Time) string { return formatTime(l, t) },
		"date":   func(t time.Time) string { return formatDate(l, t) },
		"plural": plural,
	}
}

func (r *Renderer) label(l Lang, key, fallback string) string {
	if v, ok := r.labels[l][key]; ok && v != "" {
		return v
	}
	return fallback
}

func formatTime(l Lang, t time.Time) string {
	t = t.In(moscow)
	if l == LangEN {
		return t.Format("2 Jan 2006 15:04") + " MSK"
	}
	return t.Format("02.01.2006 15:04") + " МСК"
}

func formatDate(l Lang, t time.Time) string {
	t = t.In(moscow)
	if l == LangEN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02.01.2006")
}

// plural picks the Russian form for n: 1 уведомление, 3 уведомления,
// 5 уведомлений, 21 уведомление, 11 уведомлений.
func plural(n int, one, few, many string) string {
	n %= 100
	if n < 0 {
		n = -n
	}
	switch {
	case n >= 11 && n <= 14:
		return many
	case n%10 == 1:
		return one
	case n%10 >= 2 && n%10 <= 4:
		return few
	}
	return many
}

func (r *Renderer) lang(l Lang) Lang {
	if _, ok := r.text[l]; ok {
		return l
	}
	return LangRU
}

// Instant renders the mail for one notification.
func (r *Renderer) Instant(to Recipient, it Item) (Content, error) {
	return r.render(r.lang(to.Lang), "instant", struct {
		Name string
		Item Item
	}{to.Name, it})
}

// Group is the notifications of one application in a digest.
type Group struct {
	AppID     int64
	AppNumber string
	AppObject string
	AppStatus wire.Status
	Items     []Item
}

// Count is the number of notifications in the group.
func (g Group) Count() int { return len(g.Items) }

// Digest renders a daily or weekly digest of items (in the order given,
// oldest first) grouped by application, in the order each application
// first appears.
func (r *Renderer) Digest(to Recipient, mode wire.EmailMode, items []Item) (Content, error) {
	if len(items) == 0 {
		return Content{}, fmt.Errorf("a digest needs at least one notification")
	}
	from, until := items[0].At, items[0].At
	for _, it := range items {
		from, until = minTime(from, it.At), maxTime(until, it.At)
	}
	var groups []Group
	index := map[int64]int{}
	for _, it := range items {
		i, ok := index[it.AppID]
		if !ok {
			i = len(groups)
			index[it.AppID] = i
			groups = append(groups, Group{AppID: it.AppID, AppNumber: it.AppNumber, AppObject: it.AppObject, AppStatus: it.AppStatus})
		}
		groups[i].Items = append(groups[i].Items, it)
	}
	return r.render(r.lang(to.Lang), "digest", struct {
		Name   string
		Weekly bool
		From   time.Time
		Until  time.Time
		Total  int
		Groups []Group
	}{to.Name, mode == wire.EmailWeekly, from, until, len(items), groups})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (r *Renderer) render(l Lang, name string, data any) (Content, error) {
	var subj, text, html bytes.Buffer
	if err := r.text[l].ExecuteTemplate(&subj, name+"_subject", data); err != nil {
		return Content{}, fmt.Errorf("render %s subject: %w", name, err)
	}
	if err := r.text[l].ExecuteTemplate(&text, name+"_"+string(l)+".txt", data); err != nil {
		return Content{}, fmt.Errorf("render %s text: %w", name, err)
	}
	if err := r.html[l].ExecuteTemplate(&html, name+"_"+string(l)+".html", data); err != nil {
		return Content{}, fmt.Errorf("render %s HTML: %w", name, err)
	}
	// A subject is one header line: whatever a title holds, fold it flat.
	return Content{Subject: strings.Join(strings.Fields(subj.String()), " "), Text: text.String(), HTML: html.String()}, nil
}
