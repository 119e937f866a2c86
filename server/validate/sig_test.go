package validate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// signedData builds a CMS ContentInfo holding a (signerless) SignedData
// with an embedded certificate, the outer shape of a detached signature.
// Only the shape matters here: verifying signatures is another package's job.
func signedData(t testing.TB) []byte {
	t.Helper()
	type algorithm struct{ OID asn1.ObjectIdentifier }
	type encapContent struct{ Type asn1.ObjectIdentifier }
	type signed struct {
		Version      int
		Digests      []algorithm `asn1:"set"`
		Content      encapContent
		Certificates asn1.RawValue   `asn1:"optional,tag:0"`
		Signers      []asn1.RawValue `asn1:"set"`
	}
	cert := certificate(t)
	inner, err := asn1.Marshal(signed{
		Version:      1,
		Digests:      []algorithm{{OID: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}}}, // GOST R 34.11-2012 256
		Content:      encapContent{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: cert},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{FullBytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func certificate(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Иванов И. И."},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// indefinite re-encodes a ContentInfo with BER indefinite lengths on the
// outer SEQUENCE, as some CryptoPro versions write it.
func indefinite(der []byte) []byte {
	_, _, hdr, _ := derHeader(der)
	out := []byte{0x30, 0x80}
	out = append(out, der[hdr:]...)
	return append(out, 0, 0)
}

func TestSig(t *testing.T) {
	dir := t.TempDir()
	v := newValidator(t, DefaultLimits(), "1")
	der := signedData(t)
	pemCMS := pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: der})
	b64 := []byte(base64.StdEncoding.EncodeToString(der) + "\r\n")
	cert := certificate(t)
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})

	cases := []struct {
		name, as string
		body     []byte
		want     want
	}{
		{"der", "ПЗ.pdf.sig", der, accepted()},
		{"p7s", "ПЗ.pdf.p7s", der, accepted()},
		{"pem", "a.sig", pemCMS, accepted()},
		{"pem with BOM and CRLF", "a.sig", append([]byte("\xEF\xBB\xBF"), bytes.ReplaceAll(pemCMS, []byte("\n"), []byte("\r\n"))...), accepted()},
		{"bare base64", "a.sig", b64, accepted()},
		{"ber indefinite length", "a.sig", indefinite(der), accepted()},
		{"der truncated", "a.sig", der[:len(der)-10], refused(wire.CodeInvalid, "Файл подписи повреждён или обрезан")},
		{"ber truncated", "a.sig", indefinite(der)[:len(der)-10], refused(wire.CodeInvalid, "обрезан")},
		{"pem without its end", "a.sig", pemCMS[:len(pemCMS)-20], refused(wire.CodeInvalid, "обрезан")},
		{"base64 cut mid-quantum", "a.sig", b64[:len(b64)/2+1], refused(wire.CodeInvalid, "обрезан")},
		{"pem with broken base64", "a.sig", bytes.Replace(pemCMS, []byte("MI"), []byte("M*"), 1), refused(wire.CodeInvalid, "повреждён")},
		{"certificate named .sig", "a.sig", cert, refused(wire.CodeInvalid, "сертификат, а не подпись", "отсоединённой электронной подписи")},
		{"pem certificate named .sig", "a.sig", pemCert, refused(wire.CodeInvalid, "сертификат, а не подпись")},
		{"pem labelled CMS holding a certificate", "a.sig", pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: cert}), refused(wire.CodeInvalid, "сертификат")},
		{"private key", "a.sig", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), refused(wire.CodeInvalid, "закрытый ключ")},
		{"pdf named .sig", "a.sig", []byte("%PDF-1.7\n"), refused(wire.CodeInvalid, "PDF-документ")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "upload", tc.body)
			res, err := v.Check(context.Background(), p, tc.as)
			checkOutcome(t, err, tc.want)
			if err == nil && res.Kind != KindSig {
				t.Fatalf("kind %s", res.Kind)
			}
		})
	}
}
