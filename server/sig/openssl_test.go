package sig

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The subject every generated certificate carries, in DER order (C first),
// and as Check must render it (RFC 4514 order, CN first).
const (
	testSubjectArg = "/C=RU/O=ООО «Ромашка»/CN=Иванов Иван"
	testSubject    = "CN=Иванов Иван, O=ООО «Ромашка», C=RU"
)

// openssl runs the openssl binary in dir and returns its standard output.
func openssl(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func requireOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: signatures cannot be generated (apt-get install openssl)")
	}
}

// testKey is a self-signed certificate and its key, made by openssl.
type testKey struct {
	dir, cert, key string
	serial         string // as openssl prints it
}

// newTestKey creates a key and a 30-day self-signed certificate; newkey is
// the value of `openssl req -newkey` plus any -pkeyopt arguments.
func newTestKey(t testing.TB, dir, name string, newkey ...string) testKey {
	t.Helper()
	k := testKey{dir: dir, cert: name + ".crt", key: name + ".key"}
	args := append([]string{"req", "-x509", "-newkey"}, newkey...)
	args = append(args, "-nodes", "-keyout", k.key, "-out", k.cert, "-subj", testSubjectArg, "-utf8", "-days", "30")
	openssl(t, dir, args...)
	out := strings.TrimSpace(string(openssl(t, dir, "x509", "-in", k.cert, "-noout", "-serial")))
	k.serial = strings.TrimPrefix(out, "serial=")
	return k
}

// sign makes a detached CMS signature of the file doc in k.dir.
func (k testKey) sign(t testing.TB, doc string, extra ...string) []byte {
	t.Helper()
	out := filepath.Join(k.dir, "out.sig")
	args := append([]string{"cms", "-sign", "-binary", "-in", doc, "-signer", k.cert, "-inkey", k.key, "-out", out}, extra...)
	openssl(t, k.dir, args...)
	sig, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// asn1Children splits the content of a constructed element.
func asn1Children(t testing.TB, content []byte) []asn1.RawValue {
	t.Helper()
	var out []asn1.RawValue
	for len(content) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(content, &rv)
		if err != nil {
			t.Fatalf("walk test signature: %v", err)
		}
		out = append(out, rv)
		content = rest
	}
	return out
}

// firstSignerInfo returns the children of the first SignerInfo of a DER
// signature, walked with encoding/asn1 independently of the code under test.
func firstSignerInfo(t testing.TB, der []byte) []asn1.RawValue {
	t.Helper()
	var ci asn1.RawValue
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	content := asn1Children(t, ci.Bytes)[1] // [0] EXPLICIT
	sd := asn1Children(t, content.Bytes)[0] // SignedData
	fields := asn1Children(t, sd.Bytes)     // version … signerInfos
	infos := asn1Children(t, fields[len(fields)-1].Bytes)
	return asn1Children(t, infos[0].Bytes)
}

// flipSignatureByte returns a copy of der with the last byte of the first
// signer's signature value inverted. openssl writes no unsigned attributes,
// so the value ends the file; the walk asserts it.
func flipSignatureByte(t testing.TB, der []byte) []byte {
	t.Helper()
	fields := firstSignerInfo(t, der)
	value := fields[len(fields)-1]
	if value.Tag != asn1.TagOctetString || !bytes.HasSuffix(der, value.FullBytes) {
		t.Fatal("the signature value does not end the file: cannot flip it")
	}
	out := bytes.Clone(der)
	out[len(out)-1] ^= 0xff
	return out
}

// alterSigningTime returns a copy of der with the seconds of the signed
// signingTime attribute changed: the attributes stay well-formed, but no
// longer match the signature.
func alterSigningTime(t testing.TB, der []byte) []byte {
	t.Helper()
	var utc []byte
	for _, f := range firstSignerInfo(t, der) {
		if f.Class != asn1.ClassContextSpecific || f.Tag != 0 {
			continue
		}
		for _, attr := range asn1Children(t, f.Bytes) {
			parts := asn1Children(t, attr.Bytes)
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(parts[0].FullBytes, &oid); err == nil && oid.Equal(oidSigningTime) {
				utc = asn1Children(t, parts[1].Bytes)[0].FullBytes
			}
		}
	}
	// The certificate validity may hold the same bytes; the signer info
	// comes after the certificates, so the last occurrence is the attribute.
	i := bytes.LastIndex(der, utc)
	if utc == nil || i < 0 {
		t.Fatal("no signingTime attribute in the test signature")
	}
	out := bytes.Clone(der)
	sec := i + len(utc) - 2 // last digit of the seconds, before 'Z'
	if out[sec] == '0' {
		out[sec] = '1'
	} else {
		out[sec] = '0'
	}
	return out
}

// crlfBase64 wraps base64 at 64 columns with CRLF, as CryptoPro saves it.
func crlfBase64(der []byte) []byte {
	s := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	for len(s) > 64 {
		b.WriteString(s[:64] + "\r\n")
		s = s[64:]
	}
	b.WriteString(s + "\r\n")
	return b.Bytes()
}

func TestCheckOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	dir := t.TempDir()
	doc := []byte("Раздел 07.03 АР, версия 2\n%PDF-1.7 binary \x00\x01\xff tail")
	if err := os.WriteFile(filepath.Join(dir, "doc.pdf"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	modified := append(bytes.Clone(doc), ' ')
	keys := map[string]testKey{
		"rsa":  newTestKey(t, dir, "rsa", "rsa:2048"),
		"p256": newTestKey(t, dir, "p256", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
		"p384": newTestKey(t, dir, "p384", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"),
	}
	der := func(key string, extra ...string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return keys[key].sign(t, "doc.pdf", append([]string{"-outform", "DER"}, extra...)...)
		}
	}
	tests := []struct {
		name       string
		key        string
		sig        func(t *testing.T) []byte
		doc        []byte
		want       Verdict
		wantDigest string
		wantSigAlg string
		wantDetail string
		noAttrs    bool
		attached   bool
	}{
		{name: "rsa sha256", key: "rsa", sig: der("rsa", "-md", "sha256"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "подпись верна"},
		{name: "rsa sha512", key: "rsa", sig: der("rsa", "-md", "sha512"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-512", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "подпись верна"},
		{name: "rsa sha1 is valid but flagged", key: "rsa", sig: der("rsa", "-md", "sha1"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-1", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "SHA-1 устарел"},
		{name: "rsa-pss", key: "rsa", sig: der("rsa", "-md", "sha256", "-keyopt", "rsa_padding_mode:pss"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "RSA-PSS (SHA-256)", wantDetail: "подпись верна"},
		{name: "ecdsa p256", key: "p256", sig: der("p256", "-md", "sha256"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "подпись верна"},
		{name: "ecdsa p384 sha384", key: "p384", sig: der("p384", "-md", "sha384"), doc: doc,
			want: VerdictValid, wantDigest: "SHA-384", wantSigAlg: "ECDSA (SHA-384)", wantDetail: "подпись верна"},
		{name: "rsa without signed attributes", key: "rsa", sig: der("rsa", "-md", "sha256", "-noattr"), doc: doc, noAttrs: true,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "подпись верна"},
		{name: "ecdsa without signed attributes", key: "p256", sig: der("p256", "-md", "sha256", "-noattr"), doc: doc, noAttrs: true,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "подпись верна"},
		// With -stream openssl writes indefinite lengths and, for DER
		// output, embeds the content as a constructed OCTET STRING.
		{name: "BER indefinite length (-stream)", key: "rsa", sig: der("rsa", "-md", "sha256", "-stream"), doc: doc, attached: true,
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "подпись верна"},
		{name: "PEM", key: "p256", doc: doc,
			sig:  func(t *testing.T) []byte { return keys["p256"].sign(t, "doc.pdf", "-outform", "PEM", "-md", "sha256") },
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "подпись верна"},
		{name: "bare base64 with CRLF (CryptoPro)", key: "rsa", doc: doc,
			sig:  func(t *testing.T) []byte { return crlfBase64(der("rsa", "-md", "sha256")(t)) },
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "подпись верна"},
		{name: "base64 one line with BOM and no padding", key: "p256", doc: doc,
			sig: func(t *testing.T) []byte {
				s := base64.RawStdEncoding.EncodeToString(der("p256", "-md", "sha256")(t))
				return []byte("\xef\xbb\xbf" + s + "\n")
			},
			want: VerdictValid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "подпись верна"},

		{name: "rsa modified document", key: "rsa", sig: der("rsa", "-md", "sha256"), doc: modified,
			want: VerdictMismatch, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "не совпадает с подписанным"},
		{name: "ecdsa modified document", key: "p256", sig: der("p256", "-md", "sha256"), doc: modified,
			want: VerdictMismatch, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "не совпадает с подписанным"},
		{name: "rsa-pss modified document", key: "rsa", sig: der("rsa", "-md", "sha256", "-keyopt", "rsa_padding_mode:pss"), doc: modified,
			want: VerdictMismatch, wantDigest: "SHA-256", wantSigAlg: "RSA-PSS (SHA-256)", wantDetail: "не совпадает с подписанным"},
		{name: "no signed attributes, modified document", key: "rsa", sig: der("rsa", "-md", "sha256", "-noattr"), doc: modified, noAttrs: true,
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "сделана для другого файла или повреждена"},

		{name: "rsa flipped signature byte", key: "rsa", doc: doc,
			sig:  func(t *testing.T) []byte { return flipSignatureByte(t, der("rsa", "-md", "sha256")(t)) },
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "криптографическая проверка не пройдена"},
		{name: "ecdsa flipped signature byte", key: "p256", doc: doc,
			sig:  func(t *testing.T) []byte { return flipSignatureByte(t, der("p256", "-md", "sha256")(t)) },
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "криптографическая проверка не пройдена"},
		{name: "rsa-pss flipped signature byte", key: "rsa", doc: doc,
			sig: func(t *testing.T) []byte {
				return flipSignatureByte(t, der("rsa", "-md", "sha256", "-keyopt", "rsa_padding_mode:pss")(t))
			},
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "RSA-PSS (SHA-256)", wantDetail: "криптографическая проверка не пройдена"},
		{name: "flipped signature and modified document: invalid wins", key: "rsa", doc: modified,
			sig:  func(t *testing.T) []byte { return flipSignatureByte(t, der("rsa", "-md", "sha256")(t)) },
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "RSA PKCS#1 v1.5", wantDetail: "криптографическая проверка не пройдена"},
		{name: "altered signed signingTime", key: "p256", doc: doc,
			sig:  func(t *testing.T) []byte { return alterSigningTime(t, der("p256", "-md", "sha256")(t)) },
			want: VerdictInvalid, wantDigest: "SHA-256", wantSigAlg: "ECDSA (SHA-256)", wantDetail: "криптографическая проверка не пройдена"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Check(context.Background(), tc.sig(t), bytes.NewReader(tc.doc))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if rep.Detached == tc.attached {
				t.Errorf("Detached = %v, want %v", rep.Detached, !tc.attached)
			}
			if len(rep.Signers) != 1 {
				t.Fatalf("got %d signers, want 1", len(rep.Signers))
			}
			s := rep.Signers[0]
			if s.Verdict != tc.want {
				t.Errorf("Verdict = %q (%s), want %q", s.Verdict, s.Detail, tc.want)
			}
			if !strings.Contains(s.Detail, tc.wantDetail) {
				t.Errorf("Detail = %q, want it to contain %q", s.Detail, tc.wantDetail)
			}
			if s.DetailEN == "" {
				t.Error("DetailEN is empty")
			}
			if s.DigestAlg != tc.wantDigest || s.SignatureAlg != tc.wantSigAlg {
				t.Errorf("algorithms = %q / %q, want %q / %q", s.DigestAlg, s.SignatureAlg, tc.wantDigest, tc.wantSigAlg)
			}
			k := keys[tc.key]
			if s.Subject != testSubject || s.Issuer != testSubject {
				t.Errorf("Subject, Issuer = %q, %q, want %q for both", s.Subject, s.Issuer, testSubject)
			}
			if strings.TrimPrefix(s.Serial, "00") != k.serial {
				t.Errorf("Serial = %q, want %q (openssl)", s.Serial, k.serial)
			}
			if got := s.NotAfter.Sub(s.NotBefore); got != 30*24*time.Hour {
				t.Errorf("validity = %v, want 720h (-days 30)", got)
			}
			if tc.noAttrs != (s.SigningTime == nil) {
				t.Errorf("SigningTime = %v, want present = %v", s.SigningTime, !tc.noAttrs)
			}
			if s.SigningTime != nil && time.Since(*s.SigningTime).Abs() > 10*time.Minute {
				t.Errorf("SigningTime = %v, not the time of the test", s.SigningTime)
			}
		})
	}

	t.Run("two signers", func(t *testing.T) {
		// -resign is not needed: openssl signs with several -signer
		// arguments at once, like a document signed by two officials.
		one := keys["rsa"]
		sigPath := filepath.Join(dir, "two.sig")
		openssl(t, dir, "cms", "-sign", "-binary", "-in", "doc.pdf", "-md", "sha256", "-outform", "DER", "-out", sigPath,
			"-signer", one.cert, "-inkey", one.key, "-signer", keys["p256"].cert, "-inkey", keys["p256"].key)
		sig, err := os.ReadFile(sigPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			doc  []byte
			want []Verdict
		}{
			{doc, []Verdict{VerdictValid, VerdictValid}},
			{modified, []Verdict{VerdictMismatch, VerdictMismatch}},
		} {
			rep, err := Check(context.Background(), sig, bytes.NewReader(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []Verdict
			for _, s := range rep.Signers {
				got = append(got, s.Verdict)
			}
			if !equalVerdicts(got, tc.want) {
				t.Errorf("verdicts = %v, want %v", got, tc.want)
			}
		}
	})

	t.Run("attached signature", func(t *testing.T) {
		sig := keys["rsa"].sign(t, "doc.pdf", "-outform", "DER", "-md", "sha256", "-nodetach")
		rep, err := Check(context.Background(), sig, bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Detached || len(rep.Signers) != 1 || rep.Signers[0].Verdict != VerdictValid {
			t.Errorf("report = %+v, want one valid signer and Detached = false", rep)
		}
	})

	t.Run("no certificates in the file", func(t *testing.T) {
		// Without the signer's certificate there is no key to verify with:
		// the digest is still compared, the verdict must not be "valid".
		sig := keys["rsa"].sign(t, "doc.pdf", "-outform", "DER", "-md", "sha256", "-nocerts")
		rep, err := Check(context.Background(), sig, bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Signers[0]
		if s.Verdict != VerdictDigestOnly || !strings.Contains(s.Detail, "сертификат подписанта не найден") ||
			!strings.Contains(s.Detail, "совпадает с подписанным") {
			t.Errorf("without certificates: %q (%s), want digest-only with the digest compared", s.Verdict, s.Detail)
		}
		if s.Subject != "" || s.Issuer != testSubject || strings.TrimPrefix(s.Serial, "00") != keys["rsa"].serial {
			t.Errorf("signer from the identifier = %q / %q / %q", s.Subject, s.Issuer, s.Serial)
		}
	})
}

func equalVerdicts(a, b []Verdict) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
