package sig

import (
	"crypto/sha256"
	encasn1 "encoding/asn1"
	"math/big"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// This file builds CMS structures in Go for cases openssl cannot produce
// here: GOST shapes without the gost engine, signer identification by key
// identifier, missing certificates, BMPString names, broken attributes.
// The GOST "signatures" are arbitrary bytes: only parsing and verdicts are
// under test, and nothing here could verify them anyway.

// nameAttr is one attribute of a distinguished name; tag picks the string type.
type nameAttr struct {
	oid   encasn1.ObjectIdentifier
	tag   asn1.Tag
	value string
}

var (
	oidCN      = encasn1.ObjectIdentifier{2, 5, 4, 3}
	oidC       = encasn1.ObjectIdentifier{2, 5, 4, 6}
	oidO       = encasn1.ObjectIdentifier{2, 5, 4, 10}
	oidINN     = encasn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	oidSNILS   = encasn1.ObjectIdentifier{1, 2, 643, 100, 3}
	oidGOST256 = encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	oidGOST512 = encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
	oidEd25519 = encasn1.ObjectIdentifier{1, 3, 101, 112}
)

func addName(b *cryptobyte.Builder, attrs []nameAttr) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.oid)
					b.AddASN1(a.tag, func(b *cryptobyte.Builder) {
						if a.tag == asn1.Tag(30) { // BMPString
							for _, u := range utf16.Encode([]rune(a.value)) {
								b.AddUint16(u)
							}
							return
						}
						b.AddBytes([]byte(a.value))
					})
				})
			})
		}
	})
}

func addAlg(b *cryptobyte.Builder, oid encasn1.ObjectIdentifier) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if !oid.Equal(oidEd25519) { // RFC 8410: Ed25519 identifiers carry no parameters
			b.AddASN1NULL()
		}
	})
}

func mustBytes(t testing.TB, b *cryptobyte.Builder) []byte {
	t.Helper()
	out, err := b.Bytes()
	if err != nil {
		t.Fatalf("build ASN.1: %v", err)
	}
	return out
}

// testCert describes a certificate to build.
type testCert struct {
	serial    int64
	subject   []nameAttr
	issuer    []nameAttr
	notBefore time.Time
	notAfter  time.Time
	keyAlg    encasn1.ObjectIdentifier
	key       []byte // public key BIT STRING contents
	sigAlg    encasn1.ObjectIdentifier
	ski       []byte
}

func buildCert(t testing.TB, c testCert) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSCertificate
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
			b.AddASN1BigInt(big.NewInt(c.serial))
			addAlg(b, c.sigAlg)
			addName(b, c.issuer)
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1UTCTime(c.notBefore)
				b.AddASN1UTCTime(c.notAfter)
			})
			addName(b, c.subject)
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // SubjectPublicKeyInfo
				addAlg(b, c.keyAlg)
				b.AddASN1BitString(c.key)
			})
			if c.ski != nil {
				b.AddASN1(tagExplicit3, func(b *cryptobyte.Builder) {
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidSKI)
							b.AddASN1(asn1.OCTET_STRING, func(b *cryptobyte.Builder) {
								b.AddASN1OctetString(c.ski)
							})
						})
					})
				})
			}
		})
		addAlg(b, c.sigAlg)
		b.AddASN1BitString(make([]byte, 64))
	})
	return mustBytes(t, &b)
}

// testAttr is a signed attribute: its type and the DER of its values.
type testAttr struct {
	oid    encasn1.ObjectIdentifier
	values [][]byte
}

func derOID(t testing.TB, oid encasn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	return mustBytes(t, &b)
}

func derOctets(t testing.TB, v []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1OctetString(v)
	return mustBytes(t, &b)
}

func derUTCTime(t testing.TB, v time.Time) []byte {
	var b cryptobyte.Builder
	b.AddASN1UTCTime(v)
	return mustBytes(t, &b)
}

// standardAttrs are the attributes CryptoPro and openssl always sign.
func standardAttrs(t testing.TB, digest []byte, at time.Time) []testAttr {
	return []testAttr{
		{oidContentType, [][]byte{derOID(t, oidData)}},
		{oidSigningTime, [][]byte{derUTCTime(t, at)}},
		{oidMessageDigest, [][]byte{derOctets(t, digest)}},
	}
}

// encodeAttrs returns the DER SET OF Attribute, the bytes a signer signs.
func encodeAttrs(t testing.TB, attrs []testAttr) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(a.oid)
				b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
					for _, v := range a.values {
						b.AddBytes(v)
					}
				})
			})
		}
	})
	return mustBytes(t, &b)
}

// testSignedData describes a SignedData with one signer.
type testSignedData struct {
	certs     [][]byte
	sidIssuer []nameAttr // issuerAndSerialNumber when set…
	sidSerial int64
	sidSKI    []byte // …subjectKeyIdentifier otherwise
	digestAlg encasn1.ObjectIdentifier
	sigAlg    encasn1.ObjectIdentifier
	attrs     []testAttr // nil: no signed attributes
	// sign returns the signature value over the given bytes (the DER of
	// the signed attributes); nil means 64 arbitrary bytes.
	sign     func(signed []byte) []byte
	eContent []byte // non-nil: an attached signature
}

func buildSignedData(t testing.TB, d testSignedData) []byte {
	t.Helper()
	var signed []byte
	if d.attrs != nil {
		signed = encodeAttrs(t, d.attrs)
	}
	sigValue := make([]byte, 64)
	for i := range sigValue {
		sigValue[i] = byte(i * 7)
	}
	if d.sign != nil {
		sigValue = d.sign(signed)
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				version := int64(1)
				if d.sidSKI != nil {
					version = 3
				}
				b.AddASN1Int64(version)
				b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) { addAlg(b, d.digestAlg) })
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidData)
					if d.eContent != nil {
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(d.eContent) })
					}
				})
				if len(d.certs) > 0 {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
						for _, c := range d.certs {
							b.AddBytes(c)
						}
					})
				}
				b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(version)
						if d.sidSKI != nil {
							b.AddASN1(tagImplicit0, func(b *cryptobyte.Builder) { b.AddBytes(d.sidSKI) })
						} else {
							b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
								addName(b, d.sidIssuer)
								b.AddASN1BigInt(big.NewInt(d.sidSerial))
							})
						}
						addAlg(b, d.digestAlg)
						if signed != nil {
							in := cryptobyte.String(signed)
							var body cryptobyte.String
							if !in.ReadASN1(&body, asn1.SET) {
								t.Fatal("re-read signed attributes")
							}
							b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddBytes(body) })
						}
						addAlg(b, d.sigAlg)
						b.AddASN1OctetString(sigValue)
					})
				})
			})
		})
	})
	return mustBytes(t, &b)
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
