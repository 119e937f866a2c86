package wire

import "time"

// User is a person who signs in.
type User struct {
	ID          int64     `json:"id"`
	Login       string    `json:"login"`
	FullName    string    `json:"full_name"`
	Email       string    `json:"email"`
	Phone       string    `json:"phone,omitempty"`
	Role        Role      `json:"role"`
	OrgID       int64     `json:"org_id,omitempty"` // applicants: their organisation
	TOTPEnabled bool      `json:"totp_enabled"`
	Disabled    bool      `json:"disabled"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
}

// Organisation is an applicant's legal entity.
type Organisation struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	ShortName string    `json:"short_name,omitempty"`
	INN       string    `json:"inn"`
	OGRN      string    `json:"ogrn"`
	KPP       string    `json:"kpp,omitempty"`
	Address   string    `json:"address"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// Application is one request for state expertise.
type Application struct {
	ID              int64         `json:"id"`
	Number          string        `json:"number"` // ГГЭ-2026-000123, assigned on creation
	OrgID           int64         `json:"org_id"`
	OrgName         string        `json:"org_name"`
	OrgINN          string        `json:"org_inn"`
	ObjectName      string        `json:"object_name"`
	ObjectAddress   string        `json:"object_address"`
	WorksKind       WorksKind     `json:"works_kind"`
	ExpertiseKind   ExpertiseKind `json:"expertise_kind"`
	Financing       Financing     `json:"financing"`
	ApplicantName   string        `json:"applicant_name"`  // contact person
	ApplicantPhone  string        `json:"applicant_phone"` // contact phone
	ApplicantEmail  string        `json:"applicant_email"`
	Status          Status        `json:"status"`
	ProposedVerdict Status        `json:"proposed_verdict,omitempty"`
	LeadExpertID    int64         `json:"lead_expert_id,omitempty"`
	Assignments     []Assignment  `json:"assignments"`
	SubmittedAt     *time.Time    `json:"submitted_at,omitempty"`
	PaidAt          *time.Time    `json:"paid_at,omitempty"`
	// Deadline is the date the current stage must end by (completeness check
	// while submitted, review while in review); nil when no clock runs.
	Deadline  *Date     `json:"deadline,omitempty"`
	DaysLeft  *int      `json:"days_left,omitempty"`
	Extended  bool      `json:"extended"`
	CreatedBy int64     `json:"created_by"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Assignment puts an expert on one section of an application.
type Assignment struct {
	Section    string `json:"section"` // classifier code such as "07.03"
	ExpertID   int64  `json:"expert_id"`
	ExpertName string `json:"expert_name"`
}

// StatusChange is one row of an application's status history.
type StatusChange struct {
	ID        int64     `json:"id"`
	AppID     int64     `json:"app_id"`
	From      Status    `json:"from"`
	To        Status    `json:"to"`
	Comment   string    `json:"comment,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"` // 0 for the payment gateway
	ActorName string    `json:"actor_name"`
	At        time.Time `json:"at"`
}

// Channel is a chat channel of an application.
type Channel string

const (
	ChannelApplicant Channel = "applicant" // applicant ↔ assigned experts and managers
	ChannelStaff     Channel = "staff"     // experts and managers only
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == ChannelApplicant || c == ChannelStaff }

// Message is one chat message.
type Message struct {
	ID          int64    `json:"id"`
	AppID       int64    `json:"app_id"`
	Channel     Channel  `json:"channel"`
	AuthorID    int64    `json:"author_id"`
	AuthorName  string   `json:"author_name"`
	Body        string   `json:"body"`
	Attachments []string `json:"attachments,omitempty"` // SHA-256 of the attached files, in order (kept for older clients)
	// Files describes Attachments, in the same order: what a reader needs
	// to show and save them (GET …/messages/{mid}/attachments/{sha}).
	Files     []Attachment `json:"files,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
}

// Attachment is one file attached to a chat message.
type Attachment struct {
	SHA256   string `json:"sha256"`
	FileName string `json:"file_name"`
	Size     int64  `json:"size"`
}

// NotificationKind classifies notifications; preferences are per kind.
type NotificationKind string

const (
	NotifyStatus    NotificationKind = "status"     // an application changed status
	NotifyMessage   NotificationKind = "message"    // a new chat message
	NotifyRemark    NotificationKind = "remark"     // remarks issued or answered
	NotifyDeadline  NotificationKind = "deadline"   // a deadline is near or passed
	NotifyAssigned  NotificationKind = "assignment" // you were assigned to an application
	NotifyNewDevice NotificationKind = "new_device" // a login from a device not seen before
)

// AllNotificationKinds lists every kind.
var AllNotificationKinds = []NotificationKind{NotifyStatus, NotifyMessage, NotifyRemark, NotifyDeadline, NotifyAssigned, NotifyNewDevice}

// Valid reports whether k is known.
func (k NotificationKind) Valid() bool {
	for _, x := range AllNotificationKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Notification is one item of a user's feed.
type Notification struct {
	ID        int64            `json:"id"`
	Kind      NotificationKind `json:"kind"`
	AppID     int64            `json:"app_id,omitempty"`
	Title     string           `json:"title"`
	Body      string           `json:"body"`
	Read      bool             `json:"read"`
	Desktop   bool             `json:"desktop"` // the user wants a desktop notification for it
	CreatedAt time.Time        `json:"created_at"`
}

// EmailMode says how e-mail for a kind is sent.
type EmailMode string

const (
	EmailInstant EmailMode = "instant"
	EmailDaily   EmailMode = "daily"
	EmailWeekly  EmailMode = "weekly"
)

// Preference says where one kind of notification goes.
type Preference struct {
	Kind      NotificationKind `json:"kind"`
	InApp     bool             `json:"in_app"`
	Desktop   bool             `json:"desktop"`
	Email     bool             `json:"email"`
	EmailMode EmailMode        `json:"email_mode"`
}

// Session is one signed-in device of a user.
type Session struct {
	ID        int64     `json:"id"`
	Device    string    `json:"device"`
	IP        string    `json:"ip"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"`
}

// LoginEvent is one row of a user's login history.
type LoginEvent struct {
	At      time.Time `json:"at"`
	IP      string    `json:"ip"`
	Device  string    `json:"device"`
	Success bool      `json:"success"`
	NewDev  bool      `json:"new_device"`
}

// Time is the date at midnight UTC, the form date columns are stored in.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }
