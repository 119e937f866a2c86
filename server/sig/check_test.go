package sig

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// sampleGOST builds a well-formed GOST-shaped detached signature with a
// certificate; other tests cut and bend it.
func sampleGOST(t testing.TB) []byte {
	t.Helper()
	ca := []nameAttr{{oidC, asn1.PrintableString, "RU"}, {oidCN, asn1.UTF8String, "УЦ Тест"}}
	at := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	cert := buildCert(t, testCert{serial: 99, subject: []nameAttr{{oidCN, asn1.UTF8String, "Иванов Иван"}}, issuer: ca,
		notBefore: at.AddDate(-1, 0, 0), notAfter: at.AddDate(1, 0, 0), keyAlg: oidGOST256, key: make([]byte, 66),
		sigAlg: oidGOST256})
	return buildSignedData(t, testSignedData{certs: [][]byte{cert}, sidIssuer: ca, sidSerial: 99,
		digestAlg: []int{1, 2, 643, 7, 1, 1, 2, 2}, sigAlg: oidGOST256, attrs: standardAttrs(t, make([]byte, 32), at)})
}

// sampleSHA256 builds a signature whose SHA-256 messageDigest matches doc
// (no certificate), so Check has to read the document.
func sampleSHA256(t testing.TB, doc []byte) []byte {
	t.Helper()
	return buildSignedData(t, testSignedData{
		sidIssuer: []nameAttr{{oidCN, asn1.UTF8String, "CA"}}, sidSerial: 1,
		digestAlg: []int{2, 16, 840, 1, 101, 3, 4, 2, 1}, sigAlg: []int{1, 2, 840, 113549, 1, 1, 1},
		attrs: standardAttrs(t, sha256Of(doc), time.Now())})
}

func TestCheckMalformed(t *testing.T) {
	good := sampleGOST(t)
	var enveloped cryptobyte.Builder
	enveloped.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier([]int{1, 2, 840, 113549, 1, 7, 3})
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1(asn1.SEQUENCE, func(*cryptobyte.Builder) {}) })
	})
	var noSigners cryptobyte.Builder
	noSigners.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(asn1.SET, func(*cryptobyte.Builder) {})
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(asn1.SET, func(*cryptobyte.Builder) {})
			})
		})
	})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: buildCert(t, testCert{
		serial: 1, subject: []nameAttr{{oidCN, asn1.UTF8String, "x"}}, issuer: []nameAttr{{oidCN, asn1.UTF8String, "x"}},
		notBefore: time.Now(), notAfter: time.Now(), keyAlg: oidGOST256, key: []byte{1}, sigAlg: oidGOST256})})

	tests := []struct {
		name string
		in   []byte
		want string // fragment of the Russian message
	}{
		{"empty", nil, "файл пуст"},
		{"whitespace", []byte(" \r\n\t"), "файл пуст"},
		{"plain text", []byte("Здравствуйте, это не подпись"), "не начинается со структуры ASN.1"},
		{"base64 of garbage", []byte("AAAA"), "не начинается со структуры ASN.1"},
		{"broken base64", []byte("MIIB=A"), "текст base64 повреждён"},
		{"broken PEM", []byte("-----BEGIN CMS-----\n!!!\n-----END CMS-----\n"), "блок PEM повреждён"},
		{"certificate instead of signature", certPEM, "похоже на сертификат"},
		{"truncated by half", good[:len(good)/2], "обрезан"},
		{"truncated by one byte", good[:len(good)-1], "обрезан"},
		{"trailing data", append(bytes.Clone(good), "junk"...), "посторонние данные"},
		{"enveloped data", mustBytes(t, &enveloped), "зашифрованное сообщение"},
		{"no signers", mustBytes(t, &noSigners), "нет ни одной подписи"},
		{"nesting bomb", bytes.Repeat([]byte{0x30, 0x80}, 200), "вложенность ASN.1"},
		{"high tag number", []byte{0x30, 0x82, 0x00, 0x03, 0x1f, 0x81, 0x00}, "недопустимый тег"},
		{"indefinite primitive", []byte{0x30, 0x80, 0x04, 0x80, 0x00, 0x00, 0x00, 0x00}, "неопределённая длина"},
		{"length beyond the file", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00}, "обрезан"},
		{"unterminated indefinite", []byte{0x30, 0x80, 0x05, 0x00}, "обрезан"},
		{"sequence of nothing", []byte{0x30, 0x81, 0x00}, "нет типа содержимого"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Check(context.Background(), tc.in, strings.NewReader("doc"))
			if err == nil {
				t.Fatalf("Check succeeded with %+v, want an error", rep)
			}
			werr, ok := wire.AsError(err)
			if !ok || werr.Code != wire.CodeInvalid || werr.Field != "signature" {
				t.Fatalf("error = %#v, want a wire error invalid/signature", err)
			}
			if !strings.Contains(werr.Message, tc.want) || !strings.Contains(werr.Message, "выгрузите открепленную подпись") {
				t.Errorf("Message = %q, want it to contain %q and the advice", werr.Message, tc.want)
			}
			if !strings.HasPrefix(werr.MessageEN, "the signature file is damaged or is not CMS: ") {
				t.Errorf("MessageEN = %q", werr.MessageEN)
			}
		})
	}
}

func TestDecodeInput(t *testing.T) {
	good := sampleGOST(t)
	// A DER file whose last byte is whitespace: the signature value may
	// end that way, and trimming it would truncate the file.
	endsInSpace := bytes.Clone(good)
	endsInSpace[len(endsInSpace)-1] = ' '
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"DER", good, good},
		{"DER ending in a space byte", endsInSpace, endsInSpace},
		{"DER with trailing CRLF and NUL padding", append(bytes.Clone(good), "\r\n\x00\x00"...), good},
		{"BER", toIndefinite(t, good), good},
		{"base64 URL alphabet", []byte(base64.URLEncoding.EncodeToString(good)), good},
		{"PEM with preamble", append([]byte("Подпись документа\n"), pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: good})...), good},
		{"base64 of BER", []byte(base64.StdEncoding.EncodeToString(toIndefinite(t, good))), good},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeInput(tc.in)
			if err != nil {
				t.Fatalf("decodeInput: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("decodeInput returned %d bytes, not the expected DER (%d bytes)", len(got), len(tc.want))
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in, out []byte
	}{
		{"primitive", []byte{0x02, 0x01, 0x05}, []byte{0x02, 0x01, 0x05}},
		{"non-minimal length", []byte{0x04, 0x81, 0x02, 0xaa, 0xbb}, []byte{0x04, 0x02, 0xaa, 0xbb}},
		{"indefinite sequence", []byte{0x30, 0x80, 0x05, 0x00, 0x00, 0x00}, []byte{0x30, 0x02, 0x05, 0x00}},
		{"constructed octet string", []byte{0x24, 0x80, 0x04, 0x01, 0xaa, 0x24, 0x03, 0x04, 0x01, 0xbb, 0x00, 0x00},
			[]byte{0x04, 0x02, 0xaa, 0xbb}},
		{"long content keeps long form", append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...),
			append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := normalize(tc.in, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.out) || len(rest) != 0 {
				t.Errorf("normalize = % x, rest % x; want % x", got, rest, tc.out)
			}
		})
	}
	t.Run("constructed octet string with a foreign segment", func(t *testing.T) {
		if _, _, err := normalize([]byte{0x24, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00}, 0); err == nil {
			t.Error("accepted an INTEGER inside a constructed OCTET STRING")
		}
	})
}

func TestFormatName(t *testing.T) {
	t61 := nameAttr{oidO, asn1.T61String, "Caf\xe9"} // Latin-1 byte
	tests := []struct {
		name  string
		attrs []nameAttr
		want  string
	}{
		{"order reversed", []nameAttr{{oidC, asn1.PrintableString, "RU"}, {oidCN, asn1.UTF8String, "Иванов"}}, "CN=Иванов, C=RU"},
		{"escaping", []nameAttr{{oidCN, asn1.UTF8String, `#a,b+c"d\e<f>g;h `}}, `CN=\#a\,b\+c\"d\\e\<f\>g\;h\ `},
		{"Russian identifiers", []nameAttr{{oidINN, asn1.Tag(18), "7700000000"}, {oidSNILS, asn1.Tag(18), "1"}}, "СНИЛС=1, ИНН=7700000000"},
		{"unknown attribute", []nameAttr{{[]int{1, 2, 3}, asn1.UTF8String, "x"}}, "1.2.3=x"},
		{"BMPString", []nameAttr{{oidCN, asn1.Tag(30), "Пётр"}}, "CN=Пётр"},
		{"T61String as Latin-1", []nameAttr{t61}, "O=Café"},
		{"non-string value as hex", []nameAttr{{oidCN, asn1.INTEGER, "\x01"}}, "CN=#020101"},
		{"invalid UTF-8 replaced", []nameAttr{{oidCN, asn1.UTF8String, "a\xffb"}}, "CN=a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b cryptobyte.Builder
			addName(&b, tc.attrs)
			got, ok := formatName(mustBytes(t, &b))
			if !ok || got != tc.want {
				t.Errorf("formatName = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
	t.Run("multi-valued RDN", func(t *testing.T) {
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
				for _, v := range []string{"a", "b"} {
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidCN)
						b.AddASN1(asn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
					})
				}
			})
		})
		if got, ok := formatName(mustBytes(t, &b)); !ok || got != "CN=a+CN=b" {
			t.Errorf("formatName = %q, %v", got, ok)
		}
	})
}

// failingReader fails after the first read, like a broken blob store.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestCheckDocumentReading(t *testing.T) {
	doc := []byte("документ")
	readErr := errors.New("disk on fire")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		sig     []byte
		reader  func() io.Reader
		wantErr error
	}{
		{name: "cancelled context", ctx: cancelled, sig: sampleSHA256(t, doc),
			reader: func() io.Reader { return bytes.NewReader(doc) }, wantErr: context.Canceled},
		{name: "read error is wrapped", ctx: context.Background(), sig: sampleSHA256(t, doc),
			reader: func() io.Reader { return failingReader{readErr} }, wantErr: readErr},
		// GOST digests cannot be computed, so the document is not read.
		{name: "GOST does not read the document", ctx: context.Background(), sig: sampleGOST(t),
			reader: func() io.Reader { return failingReader{readErr} }, wantErr: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.ctx, tc.sig, tc.reader())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if _, isWire := wire.AsError(err); isWire {
				t.Errorf("a document read error must not look like a bad signature: %v", err)
			}
		})
	}
}
