package sig

import (
	"crypto"
	"encoding/asn1"
)

// Object identifiers of the CMS structure itself (RFC 5652).
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSKI           = asn1.ObjectIdentifier{2, 5, 29, 14}
)

// contentTypeNames names the CMS content types a user may upload by mistake
// instead of a signature, so the error can say what the file actually is.
var contentTypeNames = map[string]struct{ ru, en string }{
	"1.2.840.113549.1.7.1": {"данные без подписи", "plain data without a signature"},
	"1.2.840.113549.1.7.3": {"зашифрованное сообщение", "an encrypted (enveloped) message"},
	"1.2.840.113549.1.7.5": {"сообщение с хешем", "a digested message"},
	"1.2.840.113549.1.7.6": {"зашифрованные данные", "encrypted data"},
}

// digestAlg describes a digest algorithm. hash is zero when no
// implementation is available here (GOST R 34.11): then family names the
// standard for the user-facing explanation.
type digestAlg struct {
	name   string
	family string
	hash   crypto.Hash
}

// digestAlgs maps digest OIDs to their human names and Go implementations.
// GOST R 34.11-2012 (Streebog) and 34.11-94 have no implementation reachable
// from this module (the module proxy refuses gogost), so their hash stays
// zero and the document digest is reported as not compared.
var digestAlgs = map[string]digestAlg{
	"1.3.14.3.2.26":           {name: "SHA-1", hash: crypto.SHA1},
	"2.16.840.1.101.3.4.2.4":  {name: "SHA-224", hash: crypto.SHA224},
	"2.16.840.1.101.3.4.2.1":  {name: "SHA-256", hash: crypto.SHA256},
	"2.16.840.1.101.3.4.2.2":  {name: "SHA-384", hash: crypto.SHA384},
	"2.16.840.1.101.3.4.2.3":  {name: "SHA-512", hash: crypto.SHA512},
	"2.16.840.1.101.3.4.2.8":  {name: "SHA3-256", hash: crypto.SHA3_256},
	"2.16.840.1.101.3.4.2.9":  {name: "SHA3-384", hash: crypto.SHA3_384},
	"2.16.840.1.101.3.4.2.10": {name: "SHA3-512", hash: crypto.SHA3_512},
	// MD5 is named but deliberately left without an implementation: a
	// collision-prone digest must not produce a "valid" verdict.
	"1.2.840.113549.2.5": {name: "MD5", family: "MD5"},
	"1.2.643.7.1.1.2.2":  {name: "ГОСТ Р 34.11-2012 256 бит", family: "ГОСТ Р 34.11-2012"},
	"1.2.643.7.1.1.2.3":  {name: "ГОСТ Р 34.11-2012 512 бит", family: "ГОСТ Р 34.11-2012"},
	"1.2.643.2.2.9":      {name: "ГОСТ Р 34.11-94", family: "ГОСТ Р 34.11-94"},
}

// sigKind is the verification scheme a signature algorithm needs.
type sigKind int

const (
	kindUnknown sigKind = iota
	kindRSA             // RSA PKCS #1 v1.5
	kindPSS             // RSA-PSS, parameters in the AlgorithmIdentifier
	kindECDSA
	kindEd25519
	kindGOST // GOST R 34.10: no implementation here
)

// sigAlg describes a signature algorithm (or public key algorithm, which CMS
// signers commonly put in SignerInfo.signatureAlgorithm). hash is the digest
// the algorithm fixes; zero means "the SignerInfo's digestAlgorithm".
type sigAlg struct {
	name string
	kind sigKind
	hash crypto.Hash
}

// sigAlgs maps signature and public-key OIDs to names and schemes.
var sigAlgs = map[string]sigAlg{
	"1.2.840.113549.1.1.1":  {name: "RSA PKCS#1 v1.5", kind: kindRSA},
	"1.2.840.113549.1.1.5":  {name: "RSA PKCS#1 v1.5 (SHA-1)", kind: kindRSA, hash: crypto.SHA1},
	"1.2.840.113549.1.1.14": {name: "RSA PKCS#1 v1.5 (SHA-224)", kind: kindRSA, hash: crypto.SHA224},
	"1.2.840.113549.1.1.11": {name: "RSA PKCS#1 v1.5 (SHA-256)", kind: kindRSA, hash: crypto.SHA256},
	"1.2.840.113549.1.1.12": {name: "RSA PKCS#1 v1.5 (SHA-384)", kind: kindRSA, hash: crypto.SHA384},
	"1.2.840.113549.1.1.13": {name: "RSA PKCS#1 v1.5 (SHA-512)", kind: kindRSA, hash: crypto.SHA512},
	"1.2.840.113549.1.1.10": {name: "RSA-PSS", kind: kindPSS},
	"1.2.840.10045.2.1":     {name: "ECDSA", kind: kindECDSA},
	"1.2.840.10045.4.1":     {name: "ECDSA (SHA-1)", kind: kindECDSA, hash: crypto.SHA1},
	"1.2.840.10045.4.3.1":   {name: "ECDSA (SHA-224)", kind: kindECDSA, hash: crypto.SHA224},
	"1.2.840.10045.4.3.2":   {name: "ECDSA (SHA-256)", kind: kindECDSA, hash: crypto.SHA256},
	"1.2.840.10045.4.3.3":   {name: "ECDSA (SHA-384)", kind: kindECDSA, hash: crypto.SHA384},
	"1.2.840.10045.4.3.4":   {name: "ECDSA (SHA-512)", kind: kindECDSA, hash: crypto.SHA512},
	"1.3.101.112":           {name: "Ed25519", kind: kindEd25519},

	// GOST R 34.10: CryptoPro puts the public-key OID here, openssl with
	// the gost engine does too; some tools use the combined OIDs.
	"1.2.643.2.2.20":    {name: "ГОСТ Р 34.10-94", kind: kindGOST},
	"1.2.643.2.2.4":     {name: "ГОСТ Р 34.10-94 (ГОСТ Р 34.11-94)", kind: kindGOST},
	"1.2.643.2.2.19":    {name: "ГОСТ Р 34.10-2001", kind: kindGOST},
	"1.2.643.2.2.3":     {name: "ГОСТ Р 34.10-2001 (ГОСТ Р 34.11-94)", kind: kindGOST},
	"1.2.643.7.1.1.1.1": {name: "ГОСТ Р 34.10-2012 256 бит", kind: kindGOST},
	"1.2.643.7.1.1.1.2": {name: "ГОСТ Р 34.10-2012 512 бит", kind: kindGOST},
	"1.2.643.7.1.1.3.2": {name: "ГОСТ Р 34.10-2012 256 бит (ГОСТ Р 34.11-2012 256 бит)", kind: kindGOST},
	"1.2.643.7.1.1.3.3": {name: "ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012 512 бит)", kind: kindGOST},
}

// nameAttrs gives the short labels of distinguished-name attributes, in the
// spelling CryptoPro and Windows show for Russian qualified certificates.
var nameAttrs = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "S",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "T",
	"2.5.4.42":                   "G",
	"1.2.840.113549.1.9.1":       "E",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.643.3.131.1.1":          "ИНН",
	"1.2.643.100.1":              "ОГРН",
	"1.2.643.100.3":              "СНИЛС",
	"1.2.643.100.4":              "ИНН ЮЛ",
	"1.2.643.100.5":              "ОГРНИП",
}
