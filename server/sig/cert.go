package sig

import (
	"bytes"
	encasn1 "encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// certificate holds what a signer report and the signature check need from
// an X.509 certificate. It is read with a small parser of its own instead of
// crypto/x509.ParseCertificate because Russian qualified certificates carry
// GOST keys and attributes x509 does not model, and x509 rejects whole
// certificates for quirks (e.g. negative serial numbers) that do not matter
// for naming the signer.
type certificate struct {
	serial     []byte // INTEGER content octets
	issuerRaw  []byte // DER Name
	subjectRaw []byte
	issuer     string
	subject    string
	notBefore  time.Time
	notAfter   time.Time
	spki       []byte // DER SubjectPublicKeyInfo
	keyAlg     encasn1.ObjectIdentifier
	ski        []byte // subjectKeyIdentifier extension, nil when absent
}

func parseCertificate(der []byte) (*certificate, bool) {
	input := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !input.ReadASN1(&cert, asn1.SEQUENCE) || !cert.ReadASN1(&tbs, asn1.SEQUENCE) {
		return nil, false
	}
	c := &certificate{}
	var serial, issuer, validity, subject, spki, spkiBody cryptobyte.String
	if !tbs.SkipOptionalASN1(tagExplicit0) || // version
		!tbs.ReadASN1(&serial, asn1.INTEGER) || len(serial) == 0 ||
		!tbs.SkipASN1(asn1.SEQUENCE) || // signature algorithm
		!tbs.ReadASN1Element(&issuer, asn1.SEQUENCE) ||
		!tbs.ReadASN1(&validity, asn1.SEQUENCE) ||
		!readTime(&validity, &c.notBefore) || !readTime(&validity, &c.notAfter) || !validity.Empty() ||
		!tbs.ReadASN1Element(&subject, asn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&spki, asn1.SEQUENCE) {
		return nil, false
	}
	spkiEl := spki
	var keyAlg cryptobyte.String
	if !spkiEl.ReadASN1(&spkiBody, asn1.SEQUENCE) || !spkiBody.ReadASN1(&keyAlg, asn1.SEQUENCE) ||
		!keyAlg.ReadASN1ObjectIdentifier(&c.keyAlg) {
		return nil, false
	}
	var ok bool
	if c.issuer, ok = formatName(issuer); !ok {
		return nil, false
	}
	if c.subject, ok = formatName(subject); !ok {
		return nil, false
	}
	c.serial, c.issuerRaw, c.subjectRaw, c.spki = serial, issuer, subject, spki

	// Extensions are read only for the subject key identifier, which
	// signers identified by key (SignerInfo v3) are matched on.
	tbs.SkipOptionalASN1(asn1.Tag(1).ContextSpecific()) // issuerUniqueID
	tbs.SkipOptionalASN1(asn1.Tag(2).ContextSpecific()) // subjectUniqueID
	var extsWrap, exts cryptobyte.String
	var hasExts bool
	if tbs.ReadOptionalASN1(&extsWrap, &hasExts, tagExplicit3) && hasExts && extsWrap.ReadASN1(&exts, asn1.SEQUENCE) {
		for !exts.Empty() {
			var ext, value cryptobyte.String
			var id encasn1.ObjectIdentifier
			if !exts.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) {
				break
			}
			ext.SkipOptionalASN1(asn1.BOOLEAN) // critical
			if !ext.ReadASN1(&value, asn1.OCTET_STRING) {
				break
			}
			var ski cryptobyte.String
			if id.Equal(oidSKI) && value.ReadASN1(&ski, asn1.OCTET_STRING) {
				c.ski = ski
			}
		}
	}
	return c, true
}

// serialHex formats INTEGER content octets as CryptoPro and Windows show a
// certificate serial number: upper-case hex of the octets as stored.
func serialHex(b []byte) string {
	return strings.ToUpper(hex.EncodeToString(b))
}

// matches reports whether c is the certificate the signer identifier names.
func (c *certificate) matches(si *signerInfo) bool {
	if si.sidSKI != nil {
		return c.ski != nil && bytes.Equal(c.ski, si.sidSKI)
	}
	if !bytes.Equal(trimSerial(c.serial), trimSerial(si.sidSerial)) {
		return false
	}
	if bytes.Equal(c.issuerRaw, si.sidIssuer) {
		return true
	}
	// Some signers re-encode the issuer with other string types
	// (PrintableString instead of UTF8String); equal text is the same name.
	name, ok := formatName(si.sidIssuer)
	return ok && name == c.issuer
}

// trimSerial drops the leading zero octet a positive INTEGER may carry, so
// a non-minimal encoding in one place still matches the minimal one.
func trimSerial(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// formatName renders a DER Name in RFC 4514 order (last RDN first), which
// for the usual C, …, O, CN encoding puts CN first as CryptoPro shows it.
// Russian identifiers (ИНН, ОГРН, СНИЛС) get their usual labels.
func formatName(der []byte) (string, bool) {
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	if !input.ReadASN1(&seq, asn1.SEQUENCE) || !input.Empty() {
		return "", false
	}
	var rdns []string
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, asn1.SET) {
			return "", false
		}
		var parts []string
		for !set.Empty() {
			var atv, value cryptobyte.String
			var typ encasn1.ObjectIdentifier
			var tag asn1.Tag
			if !set.ReadASN1(&atv, asn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&typ) ||
				!atv.ReadAnyASN1Element(&value, &tag) || !atv.Empty() {
				return "", false
			}
			label, ok := nameAttrs[typ.String()]
			if !ok {
				label = typ.String()
			}
			parts = append(parts, label+"="+attrValue(value, tag))
		}
		rdns = append(rdns, strings.Join(parts, "+"))
	}
	for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
		rdns[i], rdns[j] = rdns[j], rdns[i]
	}
	return strings.Join(rdns, ", "), true
}

// attrValue decodes a directory string of any ASN.1 string type; other
// types are shown as #hex of their DER, as RFC 4514 prescribes.
func attrValue(el cryptobyte.String, tag asn1.Tag) string {
	full := []byte(el)
	var body cryptobyte.String
	if !el.ReadASN1(&body, tag) {
		return "#" + hex.EncodeToString(full)
	}
	var s string
	switch tag {
	case asn1.UTF8String, asn1.PrintableString, asn1.IA5String,
		asn1.Tag(18) /* NumericString */, asn1.Tag(26) /* VisibleString */ :
		s = strings.ToValidUTF8(string(body), "\uFFFD")
	case asn1.T61String: // in practice Latin-1
		r := make([]rune, len(body))
		for i, b := range body {
			r[i] = rune(b)
		}
		s = string(r)
	case asn1.Tag(30): // BMPString: UTF-16 big-endian
		if len(body)%2 != 0 {
			return "#" + hex.EncodeToString(full)
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(body[2*i:])
		}
		s = string(utf16.Decode(u))
	case asn1.Tag(28): // UniversalString: UTF-32 big-endian
		if len(body)%4 != 0 {
			return "#" + hex.EncodeToString(full)
		}
		var b strings.Builder
		for i := 0; i < len(body); i += 4 {
			r := rune(binary.BigEndian.Uint32(body[i:]))
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
		}
		s = b.String()
	default:
		return "#" + hex.EncodeToString(full)
	}
	return escapeValue(s)
}

// escapeValue applies RFC 4514 escaping so that a comma inside an
// organisation name cannot be mistaken for an attribute separator.
func escapeValue(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
