package sig

import (
	encasn1 "encoding/asn1"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Context-specific tags used by SignedData and SignerInfo.
var (
	tagExplicit0    = asn1.Tag(0).Constructed().ContextSpecific() // [0] constructed
	tagImplicit0    = asn1.Tag(0).ContextSpecific()               // [0] primitive
	tagConstructed1 = asn1.Tag(1).Constructed().ContextSpecific() // [1] constructed
	tagExplicit3    = asn1.Tag(3).Constructed().ContextSpecific() // [3] constructed
)

// signedData is the part of a CMS SignedData (RFC 5652 §5) the checks need.
type signedData struct {
	contentType encasn1.ObjectIdentifier // eContentType
	hasContent  bool                     // eContent present: an attached signature
	certs       []*certificate
	signers     []signerInfo
}

// algorithmID is an AlgorithmIdentifier; params is the DER of the optional
// parameters element (nil when absent).
type algorithmID struct {
	oid    encasn1.ObjectIdentifier
	params []byte
}

// signerInfo is one SignerInfo (RFC 5652 §5.3).
type signerInfo struct {
	sidIssuer []byte // DER Name of issuerAndSerialNumber, nil for a key-identifier sid
	sidSerial []byte // INTEGER content octets of issuerAndSerialNumber
	sidSKI    []byte // subjectKeyIdentifier sid

	digest    algorithmID
	signature algorithmID
	sigValue  []byte

	// signedAttrs is the DER of the signed attributes re-tagged as SET OF
	// (0x31), exactly the bytes the signature covers; nil when absent.
	signedAttrs   []byte
	contentType   encasn1.ObjectIdentifier
	messageDigest []byte
	signingTime   *time.Time
	// attrProblem explains, when set, why the signed attributes break RFC
	// 5652 in a way that makes the signature invalid (missing or repeated
	// messageDigest, ...). Such a file parses, but cannot be "valid".
	attrProblem *problem
}

// problem is a user-facing explanation in both interface languages.
type problem struct{ ru, en string }

// parseSignedData reads a DER ContentInfo holding SignedData. Every read is
// a bounds-checked cryptobyte call, so malformed input yields an error, never
// a panic or an out-of-range read.
func parseSignedData(der []byte) (*signedData, error) {
	input := cryptobyte.String(der)
	var ci cryptobyte.String
	if !input.ReadASN1(&ci, asn1.SEQUENCE) {
		return nil, malformed("нет структуры ContentInfo", "no ContentInfo structure")
	}
	if ci.PeekASN1Tag(asn1.SEQUENCE) {
		// A SEQUENCE inside a SEQUENCE at the top is how certificates,
		// certificate requests and keys start: name the likely mix-up.
		return nil, malformed("это похоже на сертификат или ключ, а не на файл подписи",
			"this looks like a certificate or a key, not a signature file")
	}
	var ctype encasn1.ObjectIdentifier
	if !ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, malformed("нет типа содержимого ContentInfo", "no ContentInfo content type")
	}
	if !ctype.Equal(oidSignedData) {
		if n, ok := contentTypeNames[ctype.String()]; ok {
			return nil, malformed("это "+n.ru+", а не подписанные данные", "this is "+n.en+", not signed data")
		}
		return nil, malformed("тип содержимого "+ctype.String()+" не является SignedData",
			"content type "+ctype.String()+" is not SignedData")
	}
	var content, sd cryptobyte.String
	if !ci.ReadASN1(&content, tagExplicit0) || !content.ReadASN1(&sd, asn1.SEQUENCE) {
		return nil, malformed("нет структуры SignedData", "no SignedData structure")
	}

	var version int64
	var digestAlgs, eci cryptobyte.String
	if !sd.ReadASN1Integer(&version) {
		return nil, malformed("нет версии SignedData", "no SignedData version")
	}
	if !sd.ReadASN1(&digestAlgs, asn1.SET) {
		return nil, malformed("нет списка алгоритмов хеширования", "no digestAlgorithms set")
	}
	for !digestAlgs.Empty() {
		if _, ok := readAlgorithmID(&digestAlgs); !ok {
			return nil, malformed("повреждён список алгоритмов хеширования", "the digestAlgorithms set is damaged")
		}
	}

	out := &signedData{}
	if !sd.ReadASN1(&eci, asn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&out.contentType) {
		return nil, malformed("нет EncapsulatedContentInfo", "no EncapsulatedContentInfo")
	}
	var eContent cryptobyte.String // only its presence matters: the document comes separately
	if !eci.ReadOptionalASN1(&eContent, &out.hasContent, tagExplicit0) || !eci.Empty() {
		return nil, malformed("повреждён EncapsulatedContentInfo", "the EncapsulatedContentInfo is damaged")
	}

	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, tagExplicit0) {
		return nil, malformed("повреждён список сертификатов", "the certificate set is damaged")
	}
	for !certs.Empty() {
		var el cryptobyte.String
		var tag asn1.Tag
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return nil, malformed("повреждён список сертификатов", "the certificate set is damaged")
		}
		if tag != asn1.SEQUENCE {
			continue // attribute or other certificate formats: never signers
		}
		// A certificate we cannot read is skipped rather than fatal: chains
		// carry old root certificates with quirks, and only the signer's
		// own certificate matters; its absence is reported per signer.
		if c, ok := parseCertificate(el); ok {
			out.certs = append(out.certs, c)
		}
	}
	if !sd.SkipOptionalASN1(tagConstructed1) { // crls: revocation is not checked here
		return nil, malformed("повреждён список CRL", "the CRL set is damaged")
	}

	var infos cryptobyte.String
	if !sd.ReadASN1(&infos, asn1.SET) || !sd.Empty() {
		return nil, malformed("нет списка SignerInfo", "no signerInfos set")
	}
	for !infos.Empty() {
		var raw cryptobyte.String
		if !infos.ReadASN1(&raw, asn1.SEQUENCE) {
			return nil, malformed("повреждён список SignerInfo", "the signerInfos set is damaged")
		}
		si, err := parseSignerInfo(raw)
		if err != nil {
			return nil, err
		}
		out.signers = append(out.signers, si)
	}
	if len(out.signers) == 0 {
		return nil, malformed("в файле нет ни одной подписи (SignerInfo)", "the file holds no signature (SignerInfo)")
	}
	return out, nil
}

func parseSignerInfo(s cryptobyte.String) (signerInfo, error) {
	var si signerInfo
	bad := func(ru, en string) (signerInfo, error) { return signerInfo{}, malformed(ru, en) }

	var version int64
	if !s.ReadASN1Integer(&version) {
		return bad("нет версии SignerInfo", "no SignerInfo version")
	}
	switch {
	case s.PeekASN1Tag(asn1.SEQUENCE):
		var ias, issuer, serial cryptobyte.String
		if !s.ReadASN1(&ias, asn1.SEQUENCE) ||
			!ias.ReadASN1Element(&issuer, asn1.SEQUENCE) ||
			!ias.ReadASN1(&serial, asn1.INTEGER) || len(serial) == 0 || !ias.Empty() {
			return bad("повреждён идентификатор подписанта", "the signer identifier is damaged")
		}
		si.sidIssuer, si.sidSerial = issuer, serial
	case s.PeekASN1Tag(tagImplicit0):
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, tagImplicit0) {
			return bad("повреждён идентификатор ключа подписанта", "the signer key identifier is damaged")
		}
		si.sidSKI = ski
	default:
		return bad("нет идентификатора подписанта", "no signer identifier")
	}

	var ok bool
	if si.digest, ok = readAlgorithmID(&s); !ok {
		return bad("нет алгоритма хеширования подписанта", "no signer digest algorithm")
	}
	if s.PeekASN1Tag(tagExplicit0) {
		var el cryptobyte.String
		if !s.ReadASN1Element(&el, tagExplicit0) {
			return bad("повреждены подписанные атрибуты", "the signed attributes are damaged")
		}
		if err := parseSignedAttrs(&si, el); err != nil {
			return signerInfo{}, err
		}
	}
	if si.signature, ok = readAlgorithmID(&s); !ok {
		return bad("нет алгоритма подписи", "no signature algorithm")
	}
	var value cryptobyte.String
	if !s.ReadASN1(&value, asn1.OCTET_STRING) {
		return bad("нет значения подписи", "no signature value")
	}
	si.sigValue = value
	if !s.SkipOptionalASN1(tagConstructed1) || !s.Empty() { // unsigned attributes (e.g. CAdES timestamps) are not evaluated
		return bad("лишние данные в SignerInfo", "trailing data in SignerInfo")
	}
	return si, nil
}

// parseSignedAttrs reads the [0] IMPLICIT SET OF Attribute element el.
func parseSignedAttrs(si *signerInfo, el cryptobyte.String) error {
	// RFC 5652 §5.4: the signature covers the DER of the attributes with
	// the EXPLICIT SET OF tag, not the [0] IMPLICIT one found in the file.
	si.signedAttrs = append([]byte{0x31}, el[1:]...)

	var attrs cryptobyte.String
	if !el.ReadASN1(&attrs, tagExplicit0) {
		return malformed("повреждены подписанные атрибуты", "the signed attributes are damaged")
	}
	seen := map[string]bool{}
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var typ encasn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, asn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&typ) ||
			!attr.ReadASN1(&values, asn1.SET) || !attr.Empty() {
			return malformed("повреждён подписанный атрибут", "a signed attribute is damaged")
		}
		key := typ.String()
		known := typ.Equal(oidContentType) || typ.Equal(oidMessageDigest) || typ.Equal(oidSigningTime)
		if !known {
			continue
		}
		if seen[key] {
			si.attrProblem = &problem{"атрибут " + key + " повторяется", "attribute " + key + " is repeated"}
			continue
		}
		seen[key] = true
		switch {
		case typ.Equal(oidContentType):
			var ct encasn1.ObjectIdentifier
			if !values.ReadASN1ObjectIdentifier(&ct) || !values.Empty() {
				return malformed("повреждён атрибут contentType", "the contentType attribute is damaged")
			}
			si.contentType = ct
		case typ.Equal(oidMessageDigest):
			var md cryptobyte.String
			if !values.ReadASN1(&md, asn1.OCTET_STRING) || !values.Empty() {
				return malformed("повреждён атрибут messageDigest", "the messageDigest attribute is damaged")
			}
			si.messageDigest = md
		case typ.Equal(oidSigningTime):
			var t time.Time
			if !readTime(&values, &t) || !values.Empty() {
				return malformed("повреждён атрибут signingTime", "the signingTime attribute is damaged")
			}
			si.signingTime = &t
		}
	}
	if si.attrProblem == nil {
		switch {
		case si.messageDigest == nil:
			si.attrProblem = &problem{"нет подписанного атрибута messageDigest (хеш документа)", "the messageDigest signed attribute (document hash) is missing"}
		case si.contentType == nil:
			si.attrProblem = &problem{"нет подписанного атрибута contentType", "the contentType signed attribute is missing"}
		}
	}
	return nil
}

// readAlgorithmID reads an AlgorithmIdentifier with optional parameters.
func readAlgorithmID(s *cryptobyte.String) (algorithmID, bool) {
	var seq cryptobyte.String
	var a algorithmID
	if !s.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.oid) {
		return algorithmID{}, false
	}
	if !seq.Empty() {
		var params cryptobyte.String
		if !seq.ReadAnyASN1Element(&params, nil) || !seq.Empty() {
			return algorithmID{}, false
		}
		a.params = params
	}
	return a, true
}

// readTime reads an X.509/CMS Time: UTCTime or GeneralizedTime.
func readTime(s *cryptobyte.String, out *time.Time) bool {
	switch {
	case s.PeekASN1Tag(asn1.UTCTime):
		return s.ReadASN1UTCTime(out)
	case s.PeekASN1Tag(asn1.GeneralizedTime):
		return s.ReadASN1GeneralizedTime(out)
	}
	return false
}
