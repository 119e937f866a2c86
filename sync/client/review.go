package client

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/expertiza/expertiza/sync/wire"
)

func idPath(kind string, id int64, rest string) string {
	return "/" + kind + "/" + strconv.FormatInt(id, 10) + rest
}

func versionQuery(v int64) string {
	if v == 0 {
		return ""
	}
	return "?version=" + strconv.FormatInt(v, 10)
}

// --- annotations (staff only) ---

// Annotations lists an application's annotations; versionID 0 means all
// versions.
func (c *Client) Annotations(ctx context.Context, appID, versionID int64) ([]wire.Annotation, error) {
	var out []wire.Annotation
	return out, c.Call(ctx, http.MethodGet, appPath(appID, "/annotations"+versionQuery(versionID)), nil, &out, "")
}

// VersionAnnotations lists the annotations of one document version.
func (c *Client) VersionAnnotations(ctx context.Context, versionID int64) ([]wire.Annotation, error) {
	var out []wire.Annotation
	return out, c.Call(ctx, http.MethodGet, idPath("versions", versionID, "/annotations"), nil, &out, "")
}

// CreateAnnotation marks a page of a version.
func (c *Client) CreateAnnotation(ctx context.Context, versionID int64, r wire.CreateAnnotationRequest, key string) (wire.Annotation, error) {
	var out wire.Annotation
	return out, c.Call(ctx, http.MethodPost, idPath("versions", versionID, "/annotations"), r, &out, key)
}

// UpdateAnnotation changes an annotation seen at r.Version.
func (c *Client) UpdateAnnotation(ctx context.Context, id int64, r wire.UpdateAnnotationRequest, key string) (wire.Annotation, error) {
	var out wire.Annotation
	return out, c.Call(ctx, http.MethodPatch, idPath("annotations", id, ""), r, &out, key)
}

// DeleteAnnotation deletes an annotation seen at version.
func (c *Client) DeleteAnnotation(ctx context.Context, id, version int64, key string) error {
	return c.Call(ctx, http.MethodDelete, idPath("annotations", id, "?version="+strconv.FormatInt(version, 10)), nil, nil, key)
}

// SetAnnotationStatus resolves, rejects or reopens an annotation.
func (c *Client) SetAnnotationStatus(ctx context.Context, id int64, r wire.AnnotationStatusRequest, key string) (wire.Annotation, error) {
	var out wire.Annotation
	return out, c.Call(ctx, http.MethodPost, idPath("annotations", id, "/status"), r, &out, key)
}

// ReplyAnnotation adds a reply to an annotation's thread.
func (c *Client) ReplyAnnotation(ctx context.Context, id int64, text, key string) (wire.AnnotationReply, error) {
	var out wire.AnnotationReply
	return out, c.Call(ctx, http.MethodPost, idPath("annotations", id, "/replies"), wire.ReplyRequest{Text: text}, &out, key)
}

// --- remarks and notices ---

// Remarks lists the remarks the caller may see; versionID 0 means all.
func (c *Client) Remarks(ctx context.Context, appID, versionID int64) ([]wire.Remark, error) {
	var out []wire.Remark
	return out, c.Call(ctx, http.MethodGet, appPath(appID, "/remarks"+versionQuery(versionID)), nil, &out, "")
}

// CreateRemark creates a draft remark.
func (c *Client) CreateRemark(ctx context.Context, appID int64, r wire.CreateRemarkRequest, key string) (wire.Remark, error) {
	var out wire.Remark
	return out, c.Call(ctx, http.MethodPost, appPath(appID, "/remarks"), r, &out, key)
}

// UpdateRemark edits the caller's own draft.
func (c *Client) UpdateRemark(ctx context.Context, id int64, r wire.UpdateRemarkRequest, key string) (wire.Remark, error) {
	var out wire.Remark
	return out, c.Call(ctx, http.MethodPatch, idPath("remarks", id, ""), r, &out, key)
}

// DeleteRemark deletes the caller's own draft seen at version.
func (c *Client) DeleteRemark(ctx context.Context, id, version int64, key string) error {
	return c.Call(ctx, http.MethodDelete, idPath("remarks", id, "?version="+strconv.FormatInt(version, 10)), nil, nil, key)
}

// PublishRemarks is the lead expert's notice.
func (c *Client) PublishRemarks(ctx context.Context, appID int64, r wire.PublishRemarksRequest, key string) (wire.Notice, error) {
	var out wire.Notice
	return out, c.Call(ctx, http.MethodPost, appPath(appID, "/notices"), r, &out, key)
}

// Notices lists an application's notices.
func (c *Client) Notices(ctx context.Context, appID int64) ([]wire.Notice, error) {
	var out []wire.Notice
	return out, c.Call(ctx, http.MethodGet, appPath(appID, "/notices"), nil, &out, "")
}

// AnswerRemark is the applicant's answer.
func (c *Client) AnswerRemark(ctx context.Context, id int64, r wire.AnswerRemarkRequest, key string) (wire.Remark, error) {
	var out wire.Remark
	return out, c.Call(ctx, http.MethodPost, idPath("remarks", id, "/answers"), r, &out, key)
}

// SetRemarkStatus is an expert's verdict on a remark.
func (c *Client) SetRemarkStatus(ctx context.Context, id int64, r wire.RemarkStatusRequest, key string) (wire.Remark, error) {
	var out wire.Remark
	return out, c.Call(ctx, http.MethodPost, idPath("remarks", id, "/status"), r, &out, key)
}

// NoticeLetter downloads a notice's PDF letter into dst and returns its
// SHA-256, checked against the one the server sends (ErrDigest on a
// mismatch: discard what dst received). Until the server has rendered the
// letter it answers a conflict on field letter_sha256; the notice.letter
// event says when it is ready.
func (c *Client) NoticeLetter(ctx context.Context, noticeID int64, dst io.Writer) (string, error) {
	return c.verifiedGet(ctx, idPath("notices", noticeID, "/letter"), "notice letter", dst)
}
