package wire

import (
	"encoding/json"
	"time"
)

// APIPrefix is where every versioned endpoint lives.
const APIPrefix = "/api/v1"

// Header names of the protocol.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderDeviceID       = "X-Expertiza-Device"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// EventKind names a change-log event.
type EventKind string

const (
	EventApplication      EventKind = "application"       // Data: Application (created, edited, moved, assigned)
	EventApplicationGone  EventKind = "application.gone"  // Data: {"id":N} (a draft deleted)
	EventStatusChanged    EventKind = "status.changed"    // Data: StatusChange
	EventMessage          EventKind = "message"           // Data: Message
	EventMessageRead      EventKind = "message.read"      // Data: ReadMark (to the reader only)
	EventNotification     EventKind = "notification"      // Data: Notification (to its user only)
	EventNotificationRead EventKind = "notification.read" // Data: {"ids":[...]} (to its user only)
	EventSessionRevoked   EventKind = "session.revoked"   // Data: {"session_id":N} (to its user only)
	EventUser             EventKind = "user"              // Data: User (to that user only)
	EventDocumentVersion  EventKind = "document.version"  // Data: Document with the one new or re-reviewed version
	EventUploadProgress   EventKind = "upload.progress"   // Data: UploadProgress (to the uploader only)

	// Review (sync/wire/review.go). Annotations reach staff only; draft
	// remarks only their author and the lead expert.
	EventAnnotation       EventKind = "annotation.upsert" // Data: Annotation with its replies
	EventAnnotationDelete EventKind = "annotation.delete" // Data: AnnotationGone
	EventAnnotationReply  EventKind = "annotation.reply"  // Data: AnnotationReply
	EventRemark           EventKind = "remark.upsert"     // Data: Remark with its answers
	EventRemarkDelete     EventKind = "remark.delete"     // Data: RemarkGone (a draft deleted)
	EventNoticePublished  EventKind = "notice.published"  // Data: Notice
)

// Event is one committed change as delivered to a client.
type Event struct {
	Seq   int64           `json:"seq"`
	Kind  EventKind       `json:"kind"`
	At    time.Time       `json:"at"`
	AppID int64           `json:"app_id,omitempty"`
	Data  json.RawMessage `json:"data"`
}

// ReadMark says up to which message a user has read a channel.
type ReadMark struct {
	AppID      int64   `json:"app_id"`
	Channel    Channel `json:"channel"`
	LastReadID int64   `json:"last_read_id"`
}

// --- auth ---

// OrganisationInput is the organisation part of a registration.
type OrganisationInput struct {
	Name      string `json:"name"`
	ShortName string `json:"short_name,omitempty"`
	INN       string `json:"inn"`
	OGRN      string `json:"ogrn"`
	KPP       string `json:"kpp,omitempty"`
	Address   string `json:"address"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// RegisterRequest registers an applicant together with a new organisation.
type RegisterRequest struct {
	Login        string            `json:"login"`
	Password     string            `json:"password"`
	FullName     string            `json:"full_name"`
	Email        string            `json:"email"`
	Phone        string            `json:"phone,omitempty"`
	Organisation OrganisationInput `json:"organisation"`
}

// LoginRequest signs in. TOTPCode is needed for users with 2FA enabled.
type LoginRequest struct {
	Login      string `json:"login"`
	Password   string `json:"password"`
	TOTPCode   string `json:"totp_code,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	DeviceName string `json:"device_name,omitempty"`
}

// Session scopes.
const (
	ScopeFull  = "full"
	ScopeEnrol = "enrol" // may only enrol a second factor and log out
)

// LoginResponse carries the opaque session token.
type LoginResponse struct {
	Token     string    `json:"token"`
	Scope     string    `json:"scope"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// TOTPEnrolResponse starts 2FA enrolment.
type TOTPEnrolResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"` // the QR code payload
	QRPNG      []byte `json:"qr_png"`      // the same, drawn (base64 in JSON)
}

// TOTPConfirmRequest finishes enrolment with a first code.
type TOTPConfirmRequest struct {
	Code string `json:"code"`
}

// PasswordChangeRequest changes the caller's password.
type PasswordChangeRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// --- applications ---

// ApplicationInput is the editable part of an application. Create uses every
// field; Update uses the non-nil ones.
type ApplicationInput struct {
	OrgID          *int64         `json:"org_id,omitempty"`
	ObjectName     *string        `json:"object_name,omitempty"`
	ObjectAddress  *string        `json:"object_address,omitempty"`
	WorksKind      *WorksKind     `json:"works_kind,omitempty"`
	ExpertiseKind  *ExpertiseKind `json:"expertise_kind,omitempty"`
	Financing      *Financing     `json:"financing,omitempty"`
	ApplicantName  *string        `json:"applicant_name,omitempty"`
	ApplicantPhone *string        `json:"applicant_phone,omitempty"`
	ApplicantEmail *string        `json:"applicant_email,omitempty"`
}

// UpdateApplicationRequest edits an application the caller saw at Version.
type UpdateApplicationRequest struct {
	Version int64 `json:"version"`
	ApplicationInput
}

// TransitionRequestBody moves an application to another status.
type TransitionRequestBody struct {
	Version int64  `json:"version"`
	To      Status `json:"to"`
	Comment string `json:"comment,omitempty"`
}

// VerdictRequest is the lead expert's proposed verdict while in conclusion.
type VerdictRequest struct {
	Version int64  `json:"version"`
	Verdict Status `json:"verdict"` // completed_positive or completed_negative
}

// ExtendRequest asks for the one-time +20 working day extension.
type ExtendRequest struct {
	Version int64  `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// AssignRequest sets the section experts and the lead of an application.
type AssignRequest struct {
	Version      int64        `json:"version"`
	LeadExpertID int64        `json:"lead_expert_id"`
	Assignments  []Assignment `json:"assignments"`
}

// ListApplicationsResponse is a page of applications.
type ListApplicationsResponse struct {
	Items []Application `json:"items"`
}

// --- chat and notifications ---

// PostMessageRequest posts to a chat channel. Attachments are the SHA-256
// of files the author uploaded to the application's chat first
// (CreateUploadRequest with Section SectionChat), at most MaxMessageFiles.
type PostMessageRequest struct {
	Channel     Channel  `json:"channel"`
	Body        string   `json:"body"`
	Attachments []string `json:"attachments,omitempty"`
}

// MaxMessageFiles bounds the files attached to one chat message.
const MaxMessageFiles = 10

// SetLanguageRequest chooses the language of the caller's e-mail: "ru" or
// "en" (the desktop client sends its interface language).
type SetLanguageRequest struct {
	Language string `json:"language"`
}

// MarkReadRequest moves the caller's read mark of a channel.
type MarkReadRequest struct {
	Channel    Channel `json:"channel"`
	LastReadID int64   `json:"last_read_id"`
}

// MarkNotificationsReadRequest marks notifications read; UpTo marks all up to an id.
type MarkNotificationsReadRequest struct {
	IDs  []int64 `json:"ids,omitempty"`
	UpTo int64   `json:"up_to,omitempty"`
}

// PreferencesRequest replaces the caller's notification preferences.
type PreferencesRequest struct {
	Preferences []Preference `json:"preferences"`
}

// CalendarDay is one exception of the working-day calendar.
type CalendarDay struct {
	Day     Date   `json:"day"`
	Working bool   `json:"working"`
	Note    string `json:"note,omitempty"`
}

// Health is what /readyz and the admin screen show.
type Health struct {
	Status    string `json:"status"`
	Clients   int    `json:"clients"`
	LastSeq   int64  `json:"last_seq"`
	Version   string `json:"version"`
	Databases string `json:"database"`
}
