package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/expertiza/expertiza/server/service"
)

// EnvPaymentSecret holds the payment gateway's shared secret when no
// --payment-secret-file is given.
const EnvPaymentSecret = "EXPERTIZA_PAYMENT_SECRET"

// minPaymentSecret is the shortest secret accepted: an HMAC key shorter
// than this could be guessed.
const minPaymentSecret = 32

// paymentFlags configure payments: the gateway's secret and the payee
// printed on contracts and invoices.
type paymentFlags struct {
	secretFile, payeeFile string
}

func (f *paymentFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.secretFile, "payment-secret-file", "", "file holding the payment gateway's shared HMAC secret (else "+EnvPaymentSecret+
		"); without one, gateway callbacks are refused (docs/payment-callback.md)")
	fs.StringVar(&f.payeeFile, "payee-file", "", "JSON file with the expertise office's details for contracts and invoices "+
		`({"name","short_name","inn","kpp","ogrn","address","bank","bik","account","corr_account","signatory","signatory_role","acting"})`)
}

// secret reads the shared secret; nil when none is configured.
func (f *paymentFlags) secret() ([]byte, error) {
	var s []byte
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--payment-secret-file: %w", err)
		}
		s = bytes.TrimSpace(b)
	} else {
		s = []byte(strings.TrimSpace(os.Getenv(EnvPaymentSecret)))
	}
	if len(s) == 0 {
		return nil, nil
	}
	if len(s) < minPaymentSecret {
		return nil, fmt.Errorf("the payment gateway secret is %d bytes: use at least %d (e.g. openssl rand -hex 32)", len(s), minPaymentSecret)
	}
	return s, nil
}

// payee reads the office's details; nil means the built-in placeholder.
func (f *paymentFlags) payee() (*service.Payee, error) {
	if f.payeeFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.payeeFile)
	if err != nil {
		return nil, fmt.Errorf("--payee-file: %w", err)
	}
	var p service.Payee
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("--payee-file %s: %w", f.payeeFile, err)
	}
	if p.Name == "" || p.INN == "" || p.Account == "" || p.BIK == "" {
		return nil, errors.New("--payee-file: name, inn, bik and account are required")
	}
	return &p, nil
}
