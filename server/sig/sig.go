// Package sig checks detached CMS (PKCS #7) signatures that applicants upload
// beside their documents (.sig files), as CryptoPro and openssl produce them.
//
// RSA, ECDSA and Ed25519 signatures are verified completely. GOST R 34.10
// signatures, the common case in Russian expertise, are parsed and reported
// with their signer, but neither the GOST R 34.11 (Streebog) digest nor the
// GOST signature can be computed here: such signers get VerdictDigestOnly and
// a Detail that says exactly what was not checked. Certificate trust (chain,
// validity, revocation) is not evaluated by this package.
package sig

import (
	"bytes"
	"context"
	"crypto"
	_ "crypto/sha1" // registers the digests digestAlgs refers to
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// Verdict is the outcome of checking one signer against the document.
type Verdict string

const (
	// VerdictValid: structure parsed, the signed digest matches the
	// document and the signature verifies with the certificate's public
	// key (RSA, ECDSA, Ed25519 only). Certificate trust is not checked.
	VerdictValid Verdict = "valid"
	// VerdictDigestOnly: the signature algorithm (GOST or other
	// unsupported) or the missing certificate prevents a cryptographic
	// check; the structure parsed and, when the digest algorithm is
	// available, the signed digest equals the document's. The UI must say
	// «структура проверена, криптографическая проверка недоступна», never
	// "valid"; Detail tells whether the digest was compared.
	VerdictDigestOnly Verdict = "structure_checked_crypto_unavailable"
	// VerdictMismatch: the signature does not belong to this document (the
	// digests differ).
	VerdictMismatch Verdict = "digest_mismatch"
	// VerdictInvalid: the cryptographic check failed, or the signed
	// attributes break RFC 5652 so that no check can succeed.
	VerdictInvalid Verdict = "invalid"
)

// Signer describes one signature in the file.
type Signer struct {
	Subject      string     `json:"subject"` // signer certificate subject, RFC 4514 order; empty when the certificate is absent
	Issuer       string     `json:"issuer"`
	Serial       string     `json:"serial"` // certificate serial number, upper-case hex
	NotBefore    time.Time  `json:"not_before"`
	NotAfter     time.Time  `json:"not_after"`
	SigningTime  *time.Time `json:"signing_time,omitempty"` // signingTime signed attribute, as claimed by the signer
	DigestAlg    string     `json:"digest_alg"`             // human name, e.g. "SHA-256", "ГОСТ Р 34.11-2012 256 бит"
	SignatureAlg string     `json:"signature_alg"`          // human name, e.g. "ECDSA (SHA-256)", "ГОСТ Р 34.10-2012 256 бит"
	Verdict      Verdict    `json:"verdict"`
	Detail       string     `json:"detail"`    // Russian explanation of the verdict for the user
	DetailEN     string     `json:"detail_en"` // the same in English, as wire.Error carries both
}

// Report is the result of checking a signature file (stored as JSON beside
// the version).
type Report struct {
	Signers []Signer `json:"signers"`
	// Detached is false when the file also embeds the signed content; the
	// check is still made against the document passed to Check.
	Detached bool `json:"detached"`
}

// Check parses a detached CMS signature (DER, BER, PEM or bare base64, as
// CryptoPro and openssl produce) and checks each signer against the document
// read from doc. A file that is not a readable CMS SignedData yields a
// *wire.Error (CodeInvalid, field "signature"); errors reading doc are
// returned wrapped. The document is read once, and only when some signer
// uses a digest algorithm available here.
func Check(ctx context.Context, sigBytes []byte, doc io.Reader) (Report, error) {
	der, err := decodeInput(sigBytes)
	if err != nil {
		return Report{}, err
	}
	sd, err := parseSignedData(der)
	if err != nil {
		return Report{}, err
	}

	var need []crypto.Hash
	for i := range sd.signers {
		if h := digestOf(sd.signers[i].digest).hash; h != 0 && !containsHash(need, h) {
			need = append(need, h)
		}
	}
	digests, err := digestDocument(ctx, doc, need)
	if err != nil {
		return Report{}, err
	}

	rep := Report{Detached: !sd.hasContent, Signers: make([]Signer, 0, len(sd.signers))}
	for i := range sd.signers {
		rep.Signers = append(rep.Signers, evaluate(sd, &sd.signers[i], digests))
	}
	return rep, nil
}

// evaluate decides the verdict of one signer.
func evaluate(sd *signedData, si *signerInfo, digests map[crypto.Hash][]byte) Signer {
	dig := digestOf(si.digest)
	alg, ok := sigAlgs[si.signature.oid.String()]
	if !ok {
		alg = sigAlg{name: si.signature.oid.String(), kind: kindUnknown}
	}
	s := Signer{DigestAlg: dig.name, SignatureAlg: alg.name, SigningTime: si.signingTime}
	if alg.kind == kindPSS {
		if h, _, ok := pssParams(si.signature.params); ok {
			s.SignatureAlg = fmt.Sprintf("RSA-PSS (%s)", h)
		}
	}

	var cert *certificate
	for _, c := range sd.certs {
		if c.matches(si) {
			cert = c
			break
		}
	}
	switch {
	case cert != nil:
		s.Subject, s.Issuer, s.Serial = cert.subject, cert.issuer, serialHex(cert.serial)
		s.NotBefore, s.NotAfter = cert.notBefore, cert.notAfter
	case si.sidIssuer != nil:
		s.Issuer, _ = formatName(si.sidIssuer)
		s.Serial = serialHex(si.sidSerial)
	}

	if si.attrProblem != nil {
		s.Verdict = VerdictInvalid
		s.Detail = "подписанные атрибуты не соответствуют CMS: " + si.attrProblem.ru
		s.DetailEN = "the signed attributes break CMS: " + si.attrProblem.en
		return s
	}
	if si.signedAttrs != nil && !si.contentType.Equal(sd.contentType) {
		s.Verdict = VerdictInvalid
		s.Detail = "атрибут contentType не совпадает с типом подписанных данных"
		s.DetailEN = "the contentType attribute differs from the type of the signed content"
		return s
	}

	docDigest := digests[dig.hash]
	digestCheck := compareDigest(si, dig, docDigest)
	sigCheck := verifySignature(si, alg, dig, cert, docDigest)

	var notes []problem
	switch {
	case sigCheck.outcome == outcomeFailed:
		s.Verdict = VerdictInvalid
		notes = append(notes, sigCheck.why)
	case digestCheck.outcome == outcomeFailed:
		s.Verdict = VerdictMismatch
		notes = append(notes, digestCheck.why)
	case sigCheck.outcome == outcomeOK && (digestCheck.outcome == outcomeOK || si.signedAttrs == nil):
		// Without signed attributes the verified signature covers the
		// document digest directly, so it proves the match by itself.
		s.Verdict = VerdictValid
		notes = append(notes, problem{
			"подпись верна: документ не изменялся после подписания; доверие к сертификату (цепочка, срок действия, отзыв) здесь не проверялось",
			"the signature is valid: the document has not changed since signing; certificate trust (chain, validity, revocation) was not checked here"})
	default:
		s.Verdict = VerdictDigestOnly
		notes = append(notes, digestCheck.why, sigCheck.why)
	}
	if cert != nil && si.signingTime != nil &&
		(si.signingTime.Before(cert.notBefore) || si.signingTime.After(cert.notAfter)) {
		notes = append(notes, problem{"время подписания вне срока действия сертификата", "the signing time is outside the certificate validity period"})
	}
	if dig.hash == crypto.SHA1 {
		notes = append(notes, problem{"SHA-1 устарел и не защищает от подделки документа", "SHA-1 is obsolete and does not protect against a forged document"})
	}
	ru, en := make([]string, len(notes)), make([]string, len(notes))
	for i, n := range notes {
		ru[i], en[i] = n.ru, n.en
	}
	s.Detail, s.DetailEN = strings.Join(ru, "; "), strings.Join(en, "; ")
	return s
}

// compareDigest compares the messageDigest signed attribute with the
// document digest. It never reports a match it did not compute.
func compareDigest(si *signerInfo, dig digestAlg, docDigest []byte) check {
	family := dig.family
	if family == "" {
		family = dig.name
	}
	switch {
	case si.signedAttrs == nil && docDigest == nil:
		return check{outcomeUnavailable, problem{
			"алгоритм хеширования " + family + " недоступен: сверка дайджеста не выполнена",
			"digest algorithm " + family + " is unavailable: the digest was not compared"}}
	case si.signedAttrs == nil:
		return check{outcomeUnavailable, problem{
			"нет подписанных атрибутов: дайджест документа входит только в значение подписи",
			"no signed attributes: the document digest is only inside the signature value"}}
	case docDigest == nil:
		return check{outcomeUnavailable, problem{
			"алгоритм хеширования " + family + " недоступен: сверка дайджеста не выполнена",
			"digest algorithm " + family + " is unavailable: the digest was not compared"}}
	case !bytes.Equal(si.messageDigest, docDigest):
		return check{outcomeFailed, problem{
			"дайджест документа (" + dig.name + ") не совпадает с подписанным: подпись сделана для другого файла или документ изменён после подписания; загрузите подпись к этой версии документа",
			"the document digest (" + dig.name + ") differs from the signed one: the signature was made for another file or the document changed after signing; upload the signature of this document version"}}
	}
	return check{outcomeOK, problem{
		"дайджест документа (" + dig.name + ") совпадает с подписанным",
		"the document digest (" + dig.name + ") matches the signed one"}}
}

// digestOf names a digest AlgorithmIdentifier; unknown OIDs are shown as is.
func digestOf(a algorithmID) digestAlg {
	if d, ok := digestAlgs[a.oid.String()]; ok && (d.hash == 0 || d.hash.Available()) {
		return d
	}
	return digestAlg{name: a.oid.String(), family: a.oid.String()}
}

func containsHash(hs []crypto.Hash, h crypto.Hash) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// digestDocument reads doc once, feeding every needed hash, and stops
// early when ctx is cancelled (documents run to tens of megabytes).
func digestDocument(ctx context.Context, doc io.Reader, need []crypto.Hash) (map[crypto.Hash][]byte, error) {
	out := make(map[crypto.Hash][]byte, len(need))
	if len(need) == 0 {
		return out, nil
	}
	if doc == nil {
		return nil, errors.New("sig: no document to check the signature against")
	}
	hs := make([]hash.Hash, len(need))
	ws := make([]io.Writer, len(need))
	for i, h := range need {
		hs[i] = h.New()
		ws[i] = hs[i]
	}
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), ctxReader{ctx, doc}, buf); err != nil {
		return nil, fmt.Errorf("sig: read document: %w", err)
	}
	for i, h := range need {
		out[h] = hs[i].Sum(nil)
	}
	return out, nil
}

// ctxReader makes a long read stop at the next chunk once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
