package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// MaxAuditExport bounds the rows one CSV export reads: a period of a busy
// office's journal fits; a larger one is narrowed with the filters.
const MaxAuditExport = 50000

// AuditFilter is what the journal screen filters by: a period of local
// calendar days (zero: open), one action, a text, one application, one
// actor (the account screen's «my actions»).
type AuditFilter struct {
	From, To wire.Date // inclusive local days
	Action   string
	Text     string
	AppID    int64
	ActorID  int64
}

// Query turns the filter into the server's query, the days taken in loc
// (the user's time zone): From's midnight up to the midnight after To.
func (f AuditFilter) Query(loc *time.Location) wire.AuditQuery {
	q := wire.AuditQuery{Action: f.Action, Text: f.Text, AppID: f.AppID, ActorID: f.ActorID}
	if !f.From.IsZero() {
		q.From = time.Date(f.From.Year, f.From.Month, f.From.Day, 0, 0, 0, 0, loc)
	}
	if !f.To.IsZero() {
		q.To = time.Date(f.To.Year, f.To.Month, f.To.Day+1, 0, 0, 0, 0, loc)
	}
	return q
}

// AuditEntries reads one page of the audit journal the user may see (their
// own actions; managers also those about applications; administrators
// everything), newest first.
func (w *Workspace) AuditEntries(ctx context.Context, q wire.AuditQuery) (wire.AuditPage, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.AuditPage{}, err
	}
	page, err := c.AuditEntries(ctx, q)
	if err != nil {
		return wire.AuditPage{}, fmt.Errorf("read the audit journal: %w", err)
	}
	return page, nil
}

// AllAuditEntries reads every row matching q, page by page of the largest
// size, up to MaxAuditExport rows; more is an error that says to narrow
// the filter.
func (w *Workspace) AllAuditEntries(ctx context.Context, q wire.AuditQuery) ([]wire.AuditEntry, error) {
	q.Limit, q.Before = wire.MaxAuditLimit, 0
	var out []wire.AuditEntry
	for {
		page, err := w.AuditEntries(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(out) > MaxAuditExport {
			return nil, wire.E(wire.CodeTooLarge, "", fmt.Sprintf("В выборке больше %d записей — сузьте период или фильтр", MaxAuditExport),
				fmt.Sprintf("Over %d rows match — narrow the period or the filter", MaxAuditExport))
		}
		if page.NextBefore == 0 {
			return out, nil
		}
		q.Before = page.NextBefore
	}
}

// ExportAuditEntries reads every row matching the filter and writes them
// as CSV (ExportAuditCSV).
func (w *Workspace) ExportAuditEntries(ctx context.Context, f AuditFilter, loc *time.Location) ([]byte, error) {
	rows, err := w.AllAuditEntries(ctx, f.Query(loc))
	if err != nil {
		return nil, err
	}
	return ExportAuditCSV(rows, loc), nil
}

// auditCSVHeader names the columns of ExportAuditCSV, in Russian.
var auditCSVHeader = []string{
	"№ записи", "Время (UTC)", "Время (местное)", "Пользователь", "ID пользователя", "Действие", "Код действия",
	"Объект", "ID объекта", "Заявление", "IP-адрес", "Устройство", "Подробности",
}

// ExportAuditCSV writes journal rows, in the given order, as CSV for
// Excel the way ExportCSV writes the register: UTF-8 with a byte order
// mark, ';' between fields, CRLF line ends. Times are given in UTC, as
// the journal keeps them, and in loc.
func ExportAuditCSV(rows []wire.AuditEntry, loc *time.Location) []byte {
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write(auditCSVHeader) // writes to a bytes.Buffer cannot fail
	for _, e := range rows {
		actorID, appID, details := "", "", ""
		if e.ActorID != 0 {
			actorID = strconv.FormatInt(e.ActorID, 10)
		}
		if e.AppID != 0 {
			appID = strconv.FormatInt(e.AppID, 10)
		}
		if len(e.Details) > 0 {
			d, _ := json.Marshal(e.Details) // decoded from JSON: encodes again
			details = string(d)
		}
		_ = w.Write([]string{
			strconv.FormatInt(e.ID, 10), e.At.UTC().Format("2006-01-02 15:04:05"), e.At.In(loc).Format("02.01.2006 15:04:05"),
			e.ActorLogin, actorID, AuditActionName(e.Action), e.Action, e.ObjectType, e.ObjectID, appID, e.IP, e.Device, details,
		})
	}
	w.Flush()
	return b.Bytes()
}

// auditActionNames are the Russian names of the journal's actions, for
// the CSV file (the screen takes them from the translations).
var auditActionNames = map[string]string{
	wire.AuditLogin:              "Вход в систему",
	wire.AuditLoginFailed:        "Неудачная попытка входа",
	wire.AuditLogout:             "Выход из системы",
	"session_end":                "Завершение сеанса",
	"register":                   "Регистрация",
	"password_change":            "Смена пароля",
	"totp_enrol":                 "Подключение 2FA начато",
	"totp_enabled":               "2FA включена",
	wire.AuditFileUpload:         "Загрузка файла",
	wire.AuditFileDownload:       "Скачивание файла",
	wire.AuditSignatureUpload:    "Загрузка подписи",
	wire.AuditUploadCancel:       "Удаление незавершённой загрузки",
	"file_review":                "Проверка файла",
	wire.AuditStatusChange:       "Смена статуса",
	wire.AuditAssign:             "Назначение экспертов",
	"application_create":         "Создание заявления",
	"application_update":         "Изменение заявления",
	"application_delete":         "Удаление черновика",
	wire.AuditUserAdd:            "Создание пользователя",
	wire.AuditUserDisable:        "Блокировка пользователя",
	wire.AuditUserEnable:         "Разблокировка пользователя",
	wire.AuditUserRole:           "Смена роли",
	wire.AuditTOTPReset:          "Сброс 2FA",
	wire.AuditPersonalDataSet:    "Изменение персональных данных",
	wire.AuditPersonalDataView:   "Просмотр персональных данных (маскированных)",
	wire.AuditPersonalDataReveal: "Раскрытие персональных данных",
	wire.AuditJournalRead:        "Просмотр журнала",
	"audit_verify":               "Проверка целостности журнала",
}

// AuditActionName is the Russian name of an action, or its code.
func AuditActionName(action string) string {
	if n, ok := auditActionNames[action]; ok {
		return n
	}
	return action
}

// AuditActions lists the actions the journal screen offers as a filter,
// in a stable order.
func AuditActions() []string {
	return []string{
		wire.AuditLogin, wire.AuditLoginFailed, wire.AuditLogout, "session_end", "password_change",
		wire.AuditStatusChange, wire.AuditAssign, wire.AuditFileUpload, wire.AuditFileDownload, wire.AuditSignatureUpload,
		wire.AuditUploadCancel, "file_review", wire.AuditUserDisable, wire.AuditUserEnable, wire.AuditUserRole, wire.AuditTOTPReset,
		wire.AuditPersonalDataSet, wire.AuditPersonalDataView, wire.AuditPersonalDataReveal, wire.AuditJournalRead,
	}
}
