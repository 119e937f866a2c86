package sig

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

// FuzzCheck feeds arbitrary bytes to Check. Beyond not panicking, it holds
// Check to its contract: malformed input is a wire error for the signature
// field, and a parsed file names every signer with a known verdict and an
// explanation; "valid" requires a certificate (nothing else has a key).
func FuzzCheck(f *testing.F) {
	doc := []byte("документ")
	gost := sampleGOST(f)
	f.Add(gost, doc)
	f.Add(toIndefinite(f, gost), doc)
	f.Add([]byte(base64.StdEncoding.EncodeToString(gost)), doc)
	f.Add(sampleSHA256(f, doc), doc)
	f.Add([]byte("-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n"), doc)
	f.Add([]byte{0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00}, doc)
	if _, err := exec.LookPath("openssl"); err == nil {
		// Real signatures make better seeds: the mutator starts from
		// structures with certificates and verifiable values.
		dir := f.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "doc"), doc, 0o600); err != nil {
			f.Fatal(err)
		}
		for _, kind := range [][]string{{"rsa:1024"}, {"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}} {
			k := newTestKey(f, dir, kind[0][:2], kind...)
			f.Add(k.sign(f, "doc", "-outform", "DER", "-md", "sha256"), doc)
			f.Add(k.sign(f, "doc", "-outform", "DER", "-md", "sha256", "-noattr"), doc)
		}
	}

	verdicts := map[Verdict]bool{VerdictValid: true, VerdictDigestOnly: true, VerdictMismatch: true, VerdictInvalid: true}
	f.Fuzz(func(t *testing.T, sig, doc []byte) {
		if len(sig) > 16<<10 || len(doc) > 1<<10 {
			return // small inputs only: size does not reach new code paths
		}
		rep, err := Check(context.Background(), sig, bytes.NewReader(doc))
		if err != nil {
			werr, ok := wire.AsError(err)
			if !ok || werr.Code != wire.CodeInvalid || werr.Field != "signature" || werr.Message == "" || werr.MessageEN == "" {
				t.Fatalf("error is not a complete invalid-signature wire error: %#v", err)
			}
			return
		}
		if len(rep.Signers) == 0 {
			t.Fatal("a parsed file with no signers")
		}
		for _, s := range rep.Signers {
			if !verdicts[s.Verdict] || s.Detail == "" || s.DetailEN == "" {
				t.Fatalf("signer without a known verdict and explanation: %+v", s)
			}
			if s.Verdict == VerdictValid && s.Subject == "" {
				t.Fatalf("valid without a certificate: %+v", s)
			}
		}
	})
}
