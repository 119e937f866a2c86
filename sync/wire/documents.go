package wire

import (
	"encoding/json"
	"time"
)

// SectionSupporting files the application's supporting documents (ГПЗУ,
// технические условия, задание на проектирование, доверенность, выписка
// СРО); SectionChat holds chat attachments.
const (
	SectionSupporting = "app"
	SectionChat       = "chat"
)

// ReviewStatus is an expert's verdict on one version of a file.
type ReviewStatus string

const (
	ReviewPending  ReviewStatus = "pending"  // на проверке
	ReviewAccepted ReviewStatus = "accepted" // принят
	ReviewRejected ReviewStatus = "rejected" // отклонён
)

// Label is the Russian label.
func (r ReviewStatus) Label() string {
	switch r {
	case ReviewPending:
		return "На проверке"
	case ReviewAccepted:
		return "Принят"
	case ReviewRejected:
		return "Отклонён"
	}
	return string(r)
}

// PageSize is a page's size in PDF points.
type PageSize struct {
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Signature is a detached signature kept beside a version.
type Signature struct {
	ID         int64           `json:"id"`
	SHA256     string          `json:"sha256"`
	FileName   string          `json:"file_name"`
	Report     json.RawMessage `json:"report"` // signers, algorithms, verdict per signer
	UploadedAt time.Time       `json:"uploaded_at"`
}

// DocumentVersion is one immutable upload of a logical file.
type DocumentVersion struct {
	ID            int64        `json:"id"`
	DocumentID    int64        `json:"document_id"`
	Number        int          `json:"number"`
	SHA256        string       `json:"sha256"`
	Size          int64        `json:"size"`
	FileName      string       `json:"file_name"`
	Kind          string       `json:"kind"`
	Pages         int          `json:"pages"`
	PageSizes     []PageSize   `json:"page_sizes,omitempty"`
	Encrypted     bool         `json:"encrypted"`
	UploadedBy    int64        `json:"uploaded_by"`
	UploaderName  string       `json:"uploader_name"`
	UploadedAt    time.Time    `json:"uploaded_at"`
	Review        ReviewStatus `json:"review"`
	ReviewComment string       `json:"review_comment,omitempty"`
	ReviewedBy    int64        `json:"reviewed_by,omitempty"`
	ReviewedAt    *time.Time   `json:"reviewed_at,omitempty"`
	Signatures    []Signature  `json:"signatures"`
	Version       int64        `json:"version"`
}

// Document is a logical file of an application with its versions, newest
// first.
type Document struct {
	ID       int64             `json:"id"`
	AppID    int64             `json:"app_id"`
	Section  string            `json:"section"`
	Name     string            `json:"name"`
	Versions []DocumentVersion `json:"versions"`
}

// CreateUploadRequest starts a resumable upload. SignsVersion, when set,
// makes the file a detached signature of that version.
type CreateUploadRequest struct {
	Section      string `json:"section"`
	Name         string `json:"name"`
	FileName     string `json:"file_name"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	SignsVersion int64  `json:"signs_version,omitempty"`
}

// Upload is the state of a resumable upload.
type Upload struct {
	ID        string `json:"id"`
	AppID     int64  `json:"app_id"`
	FileName  string `json:"file_name"`
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunk_size"`
	Chunks    int    `json:"chunks"`
	Received  []int  `json:"received"` // acknowledged chunk indices
	State     string `json:"state"`    // open, done, failed
	Error     string `json:"error,omitempty"`
	VersionID int64  `json:"version_id,omitempty"` // when done
}

// UploadProgress is the milestone event of an upload (to its uploader).
type UploadProgress struct {
	UploadID string `json:"upload_id"`
	AppID    int64  `json:"app_id"`
	Percent  int    `json:"percent"`
}

// ReviewRequest sets the review status of a version.
type ReviewRequest struct {
	Version int64        `json:"version"`
	Status  ReviewStatus `json:"status"`
	Comment string       `json:"comment,omitempty"`
}

// Completeness lists the mandatory sections still missing for the
// application's expertise kind.
type Completeness struct {
	Required []string `json:"required"`
	Missing  []string `json:"missing"`
}

// RequiredSections are the sections a complete set must contain for each
// expertise kind (the completeness check of the office).
func RequiredSections(k ExpertiseKind) []string {
	docs := []string{"07.01", "07.02", "07.03", "07.04", "07.05", "07.06", "07.07", "07.08", "07.09", "07.12", "07.14", "07.15", "07.16", "07.17"}
	surveys := []string{"06.01", "06.02", "06.04"}
	switch k {
	case KindProjectDocs:
		return docs
	case KindSurveys:
		return surveys
	case KindProjectDocsAndSurvey:
		return append(append([]string{}, surveys...), docs...)
	case KindEstimate:
		return []string{"07.01", "07.18"}
	}
	return nil
}

// Header names of file transfer.
const (
	HeaderContentSHA256 = "X-Content-SHA256" // the SHA-256 of a downloaded file; the client verifies it
)
