package sig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	encasn1 "encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte/asn1"
)

const gostDigestDetail = "алгоритм хеширования ГОСТ Р 34.11-2012 недоступен: сверка дайджеста не выполнена"

// requireGOSTEngine skips unless openssl can make GOST R 34.10-2012 keys
// (Debian: apt-get install libengine-gost-openssl).
func requireGOSTEngine(t *testing.T, dir string) {
	t.Helper()
	requireOpenSSL(t)
	cmd := exec.Command("openssl", "genpkey", "-engine", "gost", "-algorithm", "gost2012_256",
		"-pkeyopt", "paramset:A", "-out", filepath.Join(dir, "probe.key"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("openssl has no GOST engine (apt-get install libengine-gost-openssl): %v\n%s", err, out)
	}
}

// TestCheckGOSTOpenSSL checks real GOST R 34.10-2012 signatures made by
// openssl with the gost engine: they parse, name their algorithms and
// signer, and are never reported valid, because neither Streebog nor the
// GOST signature can be computed here.
func TestCheckGOSTOpenSSL(t *testing.T) {
	dir := t.TempDir()
	requireGOSTEngine(t, dir)
	doc := []byte("Заключение экспертизы, проект 07.01 ПЗ")
	if err := os.WriteFile(filepath.Join(dir, "doc.pdf"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, alg, md    string
		doc              []byte
		wantDigest       string
		wantSigAlg       string
		wantSubjectField string
	}{
		{name: "256", alg: "gost2012_256", md: "md_gost12_256", doc: doc,
			wantDigest: "ГОСТ Р 34.11-2012 256 бит", wantSigAlg: "ГОСТ Р 34.10-2012 256 бит"},
		{name: "512", alg: "gost2012_512", md: "md_gost12_512", doc: doc,
			wantDigest: "ГОСТ Р 34.11-2012 512 бит", wantSigAlg: "ГОСТ Р 34.10-2012 512 бит"},
		// The digest is not computed, so a wrong document cannot be
		// detected: the verdict stays digest-only and must say so.
		{name: "256 other document", alg: "gost2012_256", md: "md_gost12_256", doc: []byte("другой файл"),
			wantDigest: "ГОСТ Р 34.11-2012 256 бит", wantSigAlg: "ГОСТ Р 34.10-2012 256 бит"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, cert, sigFile := tc.name+".key", tc.name+".crt", tc.name+".sig"
			openssl(t, dir, "genpkey", "-engine", "gost", "-algorithm", tc.alg, "-pkeyopt", "paramset:A", "-out", key)
			openssl(t, dir, "req", "-engine", "gost", "-x509", "-new", "-key", key, "-"+tc.md, "-utf8",
				"-subj", testSubjectArg, "-days", "30", "-out", cert)
			openssl(t, dir, "cms", "-sign", "-engine", "gost", "-binary", "-in", "doc.pdf", "-signer", cert,
				"-inkey", key, "-md", tc.md, "-outform", "DER", "-out", sigFile)
			sig, err := os.ReadFile(filepath.Join(dir, sigFile))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Check(context.Background(), sig, bytes.NewReader(tc.doc))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(rep.Signers) != 1 || !rep.Detached {
				t.Fatalf("report = %+v, want one detached signer", rep)
			}
			s := rep.Signers[0]
			if s.Verdict != VerdictDigestOnly {
				t.Errorf("Verdict = %q, want %q", s.Verdict, VerdictDigestOnly)
			}
			if !strings.HasPrefix(s.Detail, gostDigestDetail) || !strings.Contains(s.Detail, "криптографическая проверка подписи "+tc.wantSigAlg+" недоступна") {
				t.Errorf("Detail = %q", s.Detail)
			}
			if s.DigestAlg != tc.wantDigest || s.SignatureAlg != tc.wantSigAlg {
				t.Errorf("algorithms = %q / %q, want %q / %q", s.DigestAlg, s.SignatureAlg, tc.wantDigest, tc.wantSigAlg)
			}
			if s.Subject != testSubject || s.Issuer != testSubject {
				t.Errorf("Subject, Issuer = %q, %q, want %q", s.Subject, s.Issuer, testSubject)
			}
			serial := strings.TrimPrefix(strings.TrimSpace(string(openssl(t, dir, "x509", "-in", cert, "-noout", "-serial"))), "serial=")
			if strings.TrimPrefix(s.Serial, "00") != serial {
				t.Errorf("Serial = %q, want %q", s.Serial, serial)
			}
			if s.SigningTime == nil || s.NotAfter.Sub(s.NotBefore) != 30*24*time.Hour {
				t.Errorf("SigningTime = %v, validity %v – %v", s.SigningTime, s.NotBefore, s.NotAfter)
			}
		})
	}
}

// TestCheckBuilt covers shapes built in Go (see builder_test.go): GOST
// variants that need no engine, key-identifier signers, missing
// certificates, broken attributes, Ed25519 (openssl 3.0 cannot make CMS
// with Ed25519) and BER re-encodings.
func TestCheckBuilt(t *testing.T) {
	doc := []byte("%PDF-1.7 Раздел ПОС")
	signedAt := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	person := []nameAttr{
		{oidC, asn1.PrintableString, "RU"},
		{oidINN, asn1.Tag(18), "007700000000"},
		{oidSNILS, asn1.Tag(18), "12345678901"},
		{oidO, asn1.UTF8String, `ООО "Стройпроект", филиал`},
		{oidCN, asn1.Tag(30), "Петров Пётр"}, // BMPString, as old CryptoPro CAs write
	}
	const personName = `CN=Петров Пётр, O=ООО \"Стройпроект\"\, филиал, СНИЛС=12345678901, ИНН=007700000000, C=RU`
	ca := []nameAttr{{oidC, asn1.PrintableString, "RU"}, {oidCN, asn1.UTF8String, "УЦ Тест"}}
	gostCert := func(keyAlg encasn1.ObjectIdentifier, ski []byte) []byte {
		return buildCert(t, testCert{serial: 0x1234abcd, subject: person, issuer: ca,
			notBefore: signedAt.AddDate(-1, 0, 0), notAfter: signedAt.AddDate(1, 0, 0),
			keyAlg: keyAlg, key: make([]byte, 66), sigAlg: encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2}, ski: ski})
	}
	streebog512 := encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}
	streebog256 := encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	sha256OID := encasn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	sha512OID := encasn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	rsaOID := encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	ski := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	fakeDigest := bytes.Repeat([]byte{0x5a}, 64)

	edPub, edPriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	edCert := buildCert(t, testCert{serial: 77, subject: person, issuer: ca,
		notBefore: signedAt.AddDate(0, -1, 0), notAfter: signedAt.AddDate(0, 1, 0),
		keyAlg: encasn1.ObjectIdentifier{1, 3, 101, 112}, key: edPub, sigAlg: encasn1.ObjectIdentifier{1, 3, 101, 112}})
	docSHA512 := sha512.Sum512(doc)
	edSign := func(signed []byte) []byte { return ed25519.Sign(edPriv, signed) }

	gost512 := testSignedData{
		certs: [][]byte{gostCert(oidGOST512, ski)}, sidSKI: ski,
		digestAlg: streebog512, sigAlg: encasn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 3},
		attrs: standardAttrs(t, fakeDigest, signedAt),
	}

	tests := []struct {
		name         string
		sig          []byte
		want         Verdict
		wantDetached bool
		wantSubject  string
		wantIssuer   string
		wantSerial   string
		wantDigest   string
		wantSigAlg   string
		wantDetail   []string
	}{
		{name: "GOST 2012-512 signer by key identifier", sig: buildSignedData(t, gost512),
			want: VerdictDigestOnly, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-2012 512 бит", wantSigAlg: "ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012 512 бит)",
			wantDetail: []string{gostDigestDetail, "криптографическая проверка подписи ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012 512 бит) недоступна"}},
		{name: "GOST 2012-512 as BER with indefinite lengths", sig: toIndefinite(t, buildSignedData(t, gost512)),
			want: VerdictDigestOnly, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-2012 512 бит", wantSigAlg: "ГОСТ Р 34.10-2012 512 бит (ГОСТ Р 34.11-2012 512 бит)",
			wantDetail: []string{gostDigestDetail}},
		{name: "GOST 2001 with 34.11-94, signer by issuer and serial",
			sig: buildSignedData(t, testSignedData{
				certs: [][]byte{gostCert(encasn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}, nil)}, sidIssuer: ca, sidSerial: 0x1234abcd,
				digestAlg: encasn1.ObjectIdentifier{1, 2, 643, 2, 2, 9}, sigAlg: encasn1.ObjectIdentifier{1, 2, 643, 2, 2, 19},
				attrs: standardAttrs(t, fakeDigest[:32], signedAt)}),
			want: VerdictDigestOnly, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-94", wantSigAlg: "ГОСТ Р 34.10-2001",
			wantDetail: []string{"алгоритм хеширования ГОСТ Р 34.11-94 недоступен: сверка дайджеста не выполнена"}},
		{name: "GOST without signed attributes",
			sig: buildSignedData(t, testSignedData{
				certs: [][]byte{gostCert(oidGOST256, nil)}, sidIssuer: ca, sidSerial: 0x1234abcd,
				digestAlg: streebog256, sigAlg: oidGOST256}),
			want: VerdictDigestOnly, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-2012 256 бит", wantSigAlg: "ГОСТ Р 34.10-2012 256 бит",
			wantDetail: []string{gostDigestDetail}},
		{name: "GOST without certificates: signer from the identifier",
			sig: buildSignedData(t, testSignedData{
				sidIssuer: ca, sidSerial: 0x1234abcd, digestAlg: streebog256, sigAlg: oidGOST256,
				attrs: standardAttrs(t, fakeDigest[:32], signedAt)}),
			want: VerdictDigestOnly, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-2012 256 бит", wantSigAlg: "ГОСТ Р 34.10-2012 256 бит",
			wantDetail: []string{gostDigestDetail}},
		{name: "attached GOST", sig: buildSignedData(t, testSignedData{
			certs: [][]byte{gostCert(oidGOST256, nil)}, sidIssuer: ca, sidSerial: 0x1234abcd,
			digestAlg: streebog256, sigAlg: oidGOST256, attrs: standardAttrs(t, fakeDigest[:32], signedAt), eContent: doc}),
			want: VerdictDigestOnly, wantDetached: false, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "1234ABCD",
			wantDigest: "ГОСТ Р 34.11-2012 256 бит", wantSigAlg: "ГОСТ Р 34.10-2012 256 бит",
			wantDetail: []string{gostDigestDetail}},

		{name: "RSA without certificate, digest matches", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: rsaOID, attrs: standardAttrs(t, sha256Of(doc), signedAt)}),
			want: VerdictDigestOnly, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5",
			wantDetail: []string{"дайджест документа (SHA-256) совпадает с подписанным", "сертификат подписанта не найден"}},
		{name: "RSA without certificate, other document", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: rsaOID, attrs: standardAttrs(t, sha256Of([]byte("x")), signedAt)}),
			want: VerdictMismatch, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5",
			wantDetail: []string{"не совпадает с подписанным"}},
		{name: "unknown signature algorithm", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: encasn1.ObjectIdentifier{1, 2, 3, 4},
			attrs: standardAttrs(t, sha256Of(doc), signedAt)}),
			want: VerdictDigestOnly, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "1.2.3.4",
			wantDetail: []string{"совпадает с подписанным", "алгоритм подписи 1.2.3.4 не поддерживается"}},
		{name: "missing messageDigest", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: rsaOID,
			attrs: standardAttrs(t, sha256Of(doc), signedAt)[:2]}),
			want: VerdictInvalid, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5",
			wantDetail: []string{"нет подписанного атрибута messageDigest"}},
		{name: "repeated messageDigest", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: rsaOID,
			attrs: append(standardAttrs(t, sha256Of(doc), signedAt), testAttr{oidMessageDigest, [][]byte{derOctets(t, sha256Of(doc))}})}),
			want: VerdictInvalid, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5",
			wantDetail: []string{"повторяется"}},
		{name: "contentType attribute differs from the content", sig: buildSignedData(t, testSignedData{
			sidIssuer: ca, sidSerial: 5, digestAlg: sha256OID, sigAlg: rsaOID,
			attrs: []testAttr{
				{oidContentType, [][]byte{derOID(t, oidSignedData)}},
				{oidMessageDigest, [][]byte{derOctets(t, sha256Of(doc))}},
			}}),
			want: VerdictInvalid, wantDetached: true, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "05",
			wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5",
			wantDetail: []string{"contentType"}},

		{name: "Ed25519", sig: buildSignedData(t, testSignedData{
			certs: [][]byte{edCert}, sidIssuer: ca, sidSerial: 77, digestAlg: sha512OID, sigAlg: encasn1.ObjectIdentifier{1, 3, 101, 112},
			attrs: standardAttrs(t, docSHA512[:], signedAt), sign: edSign}),
			want: VerdictValid, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "4D",
			wantDigest: "SHA-512", wantSigAlg: "Ed25519", wantDetail: []string{"подпись верна"}},
		{name: "Ed25519 over other attributes", sig: buildSignedData(t, testSignedData{
			certs: [][]byte{edCert}, sidIssuer: ca, sidSerial: 77, digestAlg: sha512OID, sigAlg: encasn1.ObjectIdentifier{1, 3, 101, 112},
			attrs: standardAttrs(t, docSHA512[:], signedAt),
			sign:  func([]byte) []byte { return edSign([]byte("other")) }}),
			want: VerdictInvalid, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "4D",
			wantDigest: "SHA-512", wantSigAlg: "Ed25519", wantDetail: []string{"криптографическая проверка не пройдена"}},
		{name: "Ed25519 signing time outside the certificate", sig: buildSignedData(t, testSignedData{
			certs: [][]byte{edCert}, sidIssuer: ca, sidSerial: 77, digestAlg: sha512OID, sigAlg: encasn1.ObjectIdentifier{1, 3, 101, 112},
			attrs: standardAttrs(t, docSHA512[:], signedAt.AddDate(1, 0, 0)), sign: edSign}),
			want: VerdictValid, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "4D",
			wantDigest: "SHA-512", wantSigAlg: "Ed25519", wantDetail: []string{"время подписания вне срока действия сертификата"}},
		{name: "Ed25519 without signed attributes is not checked", sig: buildSignedData(t, testSignedData{
			certs: [][]byte{edCert}, sidIssuer: ca, sidSerial: 77, digestAlg: sha512OID, sigAlg: encasn1.ObjectIdentifier{1, 3, 101, 112},
			sign: func([]byte) []byte { return ed25519.Sign(edPriv, doc) }}),
			want: VerdictDigestOnly, wantDetached: true, wantSubject: personName, wantIssuer: "CN=УЦ Тест, C=RU", wantSerial: "4D",
			wantDigest: "SHA-512", wantSigAlg: "Ed25519", wantDetail: []string{"Ed25519 без подписанных атрибутов не поддерживается"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Check(context.Background(), tc.sig, bytes.NewReader(doc))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if rep.Detached != tc.wantDetached || len(rep.Signers) != 1 {
				t.Fatalf("Detached = %v, %d signers; want %v, 1", rep.Detached, len(rep.Signers), tc.wantDetached)
			}
			s := rep.Signers[0]
			if s.Verdict != tc.want {
				t.Errorf("Verdict = %q (%s), want %q", s.Verdict, s.Detail, tc.want)
			}
			for _, d := range tc.wantDetail {
				if !strings.Contains(s.Detail, d) {
					t.Errorf("Detail = %q, want it to contain %q", s.Detail, d)
				}
			}
			if s.Subject != tc.wantSubject || s.Issuer != tc.wantIssuer || s.Serial != tc.wantSerial {
				t.Errorf("signer = %q / %q / %q, want %q / %q / %q", s.Subject, s.Issuer, s.Serial, tc.wantSubject, tc.wantIssuer, tc.wantSerial)
			}
			if s.DigestAlg != tc.wantDigest || s.SignatureAlg != tc.wantSigAlg {
				t.Errorf("algorithms = %q / %q, want %q / %q", s.DigestAlg, s.SignatureAlg, tc.wantDigest, tc.wantSigAlg)
			}
			if s.SigningTime != nil && s.SigningTime.Year() < 2026 {
				t.Errorf("SigningTime = %v", s.SigningTime)
			}
		})
	}
}

// toIndefinite re-encodes every constructed element of a DER encoding with
// indefinite length, and the eContent OCTET STRING, if any, as a constructed
// string of two segments: the BER shapes streaming encoders produce.
func toIndefinite(t testing.TB, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		var rv encasn1.RawValue
		rest, err := encasn1.Unmarshal(der, &rv)
		if err != nil {
			t.Fatalf("toIndefinite: %v", err)
		}
		header := rv.FullBytes[0]
		switch {
		case rv.IsCompound:
			out = append(out, header, 0x80)
			out = append(out, toIndefinite(t, rv.Bytes)...)
			out = append(out, 0, 0)
		case rv.Class == encasn1.ClassUniversal && rv.Tag == encasn1.TagOctetString && len(rv.Bytes) > 1:
			half := len(rv.Bytes) / 2
			out = append(out, 0x24, 0x80)
			out = appendElement(out, 0x04, rv.Bytes[:half])
			out = appendElement(out, 0x04, rv.Bytes[half:])
			out = append(out, 0, 0)
		default:
			out = append(out, rv.FullBytes...)
		}
		der = rest
	}
	return out
}
