package sig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	encasn1 "encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// outcome is the result of one part of the check (digest or signature).
type outcome int

const (
	outcomeUnavailable outcome = iota // could not be checked here; why says why
	outcomeOK
	outcomeFailed
)

type check struct {
	outcome outcome
	why     problem
}

var oidRSAPSS = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}

// verifySignature checks si's signature value with the certificate's public
// key. With signed attributes the signature covers their DER; without, it
// covers the document itself, of which docDigest is the digest computed with
// the signer's digest algorithm (nil when that algorithm is unavailable).
func verifySignature(si *signerInfo, alg sigAlg, dig digestAlg, cert *certificate, docDigest []byte) check {
	unavailable := func(ru, en string) check { return check{outcomeUnavailable, problem{ru, en}} }
	failed := func(ru, en string) check { return check{outcomeFailed, problem{ru, en}} }

	switch alg.kind {
	case kindGOST:
		return unavailable("криптографическая проверка подписи "+alg.name+" недоступна",
			"cryptographic verification of the "+alg.name+" signature is unavailable")
	case kindUnknown:
		return unavailable("алгоритм подписи "+alg.name+" не поддерживается: криптографическая проверка недоступна",
			"signature algorithm "+alg.name+" is not supported: cryptographic verification is unavailable")
	}
	if cert == nil {
		return unavailable("сертификат подписанта не найден в файле подписи: криптографическая проверка недоступна",
			"the signer's certificate is not in the signature file: cryptographic verification is unavailable")
	}
	pub, err := publicKey(cert)
	if err != nil {
		return unavailable("ключ сертификата подписанта не поддерживается: криптографическая проверка недоступна",
			"the signer's certificate key is not supported: cryptographic verification is unavailable")
	}

	if alg.kind == kindEd25519 {
		// Ed25519 signs the message itself (RFC 8419), so without signed
		// attributes it would need the whole document in memory.
		key, ok := pub.(ed25519.PublicKey)
		switch {
		case !ok:
			return failed("алгоритм подписи не соответствует ключу сертификата", "the signature algorithm does not match the certificate key")
		case si.signedAttrs == nil:
			return unavailable("подпись Ed25519 без подписанных атрибутов не поддерживается: криптографическая проверка недоступна",
				"Ed25519 signatures without signed attributes are not supported: cryptographic verification is unavailable")
		case !ed25519.Verify(key, si.signedAttrs, si.sigValue):
			return failed("криптографическая проверка не пройдена: подпись повреждена или подменена", "cryptographic verification failed: the signature is damaged or forged")
		}
		return check{outcome: outcomeOK}
	}

	h := alg.hash
	var pss *rsa.PSSOptions
	if alg.kind == kindPSS {
		ph, salt, ok := pssParams(si.signature.params)
		if !ok {
			return unavailable("параметры RSA-PSS не поддерживаются: криптографическая проверка недоступна",
				"the RSA-PSS parameters are not supported: cryptographic verification is unavailable")
		}
		h, pss = ph, &rsa.PSSOptions{SaltLength: salt, Hash: ph}
	}
	if h == 0 {
		h = dig.hash
	}
	if h == 0 || !h.Available() {
		return unavailable("алгоритм хеширования "+dig.name+" недоступен: криптографическая проверка недоступна",
			"digest algorithm "+dig.name+" is unavailable: cryptographic verification is unavailable")
	}

	var hashed []byte
	if si.signedAttrs != nil {
		hh := h.New()
		hh.Write(si.signedAttrs)
		hashed = hh.Sum(nil)
	} else {
		// Without signed attributes the signature is over the document
		// digest, which was computed with the digest algorithm only.
		if h != dig.hash || docDigest == nil {
			return failed("алгоритм подписи не согласован с алгоритмом хеширования подписанта",
				"the signature algorithm disagrees with the signer's digest algorithm")
		}
		hashed = docDigest
	}

	verified, keyMatches := false, true
	switch key := pub.(type) {
	case *rsa.PublicKey:
		switch alg.kind {
		case kindRSA:
			verified = rsa.VerifyPKCS1v15(key, h, hashed, si.sigValue) == nil
		case kindPSS:
			verified = rsa.VerifyPSS(key, h, hashed, si.sigValue, pss) == nil
		default:
			keyMatches = false
		}
	case *ecdsa.PublicKey:
		keyMatches = alg.kind == kindECDSA
		verified = keyMatches && ecdsa.VerifyASN1(key, hashed, si.sigValue)
	default:
		keyMatches = false
	}
	switch {
	case !keyMatches:
		return failed("алгоритм подписи не соответствует ключу сертификата", "the signature algorithm does not match the certificate key")
	case !verified && si.signedAttrs == nil:
		// Without signed attributes a wrong document and a damaged
		// signature look the same: say both.
		return failed("подпись не подтверждается для этого документа: она сделана для другого файла или повреждена",
			"the signature does not verify for this document: it was made for another file or is damaged")
	case !verified:
		return failed("криптографическая проверка не пройдена: подпись повреждена или подменена", "cryptographic verification failed: the signature is damaged or forged")
	}
	return check{outcome: outcomeOK}
}

// publicKey extracts a Go public key from the certificate's
// SubjectPublicKeyInfo. crypto/x509 does not accept the id-RSASSA-PSS key
// OID, whose key body is an ordinary PKCS #1 RSA key.
func publicKey(c *certificate) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(c.spki)
	if err == nil || !c.keyAlg.Equal(oidRSAPSS) {
		return pub, err
	}
	s := cryptobyte.String(c.spki)
	var spki cryptobyte.String
	var bits encasn1.BitString
	if !s.ReadASN1(&spki, asn1.SEQUENCE) || !spki.SkipASN1(asn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) {
		return nil, fmt.Errorf("sig: damaged RSA-PSS public key: %w", err)
	}
	return x509.ParsePKCS1PublicKey(bits.RightAlign())
}

// pssParams reads RSASSA-PSS-params (RFC 4055 §3.1) with their defaults
// (SHA-1, MGF1 with SHA-1, salt 20). Go's rsa.VerifyPSS uses one hash for
// the message and for MGF1, so differing hashes are reported unsupported.
func pssParams(params []byte) (crypto.Hash, int, bool) {
	h, mgfHash, salt := crypto.SHA1, crypto.SHA1, int64(20)
	if len(params) == 0 {
		return h, int(salt), true
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, asn1.SEQUENCE) {
		return 0, 0, false
	}
	hashOf := func(a algorithmID) (crypto.Hash, bool) {
		d, ok := digestAlgs[a.oid.String()]
		return d.hash, ok && d.hash != 0
	}
	var w cryptobyte.String
	var present, ok bool
	if !seq.ReadOptionalASN1(&w, &present, asn1.Tag(0).Constructed().ContextSpecific()) {
		return 0, 0, false
	}
	if present {
		a, okA := readAlgorithmID(&w)
		if h, ok = hashOf(a); !okA || !ok {
			return 0, 0, false
		}
	}
	if !seq.ReadOptionalASN1(&w, &present, asn1.Tag(1).Constructed().ContextSpecific()) {
		return 0, 0, false
	}
	if present {
		mgf, okM := readAlgorithmID(&w)
		if !okM || !mgf.oid.Equal(oidMGF1) {
			return 0, 0, false
		}
		p := cryptobyte.String(mgf.params)
		a, okA := readAlgorithmID(&p)
		if mgfHash, ok = hashOf(a); !okA || !ok {
			return 0, 0, false
		}
	}
	if !seq.ReadOptionalASN1Integer(&salt, asn1.Tag(2).Constructed().ContextSpecific(), int64(20)) {
		return 0, 0, false
	}
	var trailer int64
	if !seq.ReadOptionalASN1Integer(&trailer, asn1.Tag(3).Constructed().ContextSpecific(), int64(1)) ||
		trailer != 1 || !seq.Empty() || mgfHash != h || salt < 0 || salt > 1<<16 {
		return 0, 0, false
	}
	return h, int(salt), true
}
