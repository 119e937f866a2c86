package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPaymentFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("k", 40)
	for _, tc := range []struct {
		name    string
		flags   paymentFlags
		env     string
		secret  string // want; "" with no error: callbacks off
		errPart string
	}{
		{name: "nothing configured"},
		{name: "from the file, trimmed", flags: paymentFlags{secretFile: write("s1", long+"\n")}, secret: long},
		{name: "from the environment", env: long, secret: long},
		{name: "the file wins", flags: paymentFlags{secretFile: write("s2", long+"x")}, env: long, secret: long + "x"},
		{name: "too short", env: "short", errPart: "at least 32"},
		{name: "missing file", flags: paymentFlags{secretFile: filepath.Join(dir, "none")}, errPart: "--payment-secret-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPaymentSecret, tc.env)
			got, err := tc.flags.secret()
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) {
					t.Errorf("secret() = %q, %v; want an error with %q", got, err, tc.errPart)
				}
				return
			}
			if err != nil || string(got) != tc.secret {
				t.Errorf("secret() = %q, %v; want %q", got, err, tc.secret)
			}
		})
	}

	good := write("payee.json", `{"name":"ГАУ «Экспертиза»","inn":"7707083893","bik":"044525225","account":"40603810900000000001","acting":"директора Иванова И. И."}`)
	p, err := (&paymentFlags{payeeFile: good}).payee()
	if err != nil || p.Name != "ГАУ «Экспертиза»" || p.Acting != "директора Иванова И. И." {
		t.Errorf("payee() = %+v, %v", p, err)
	}
	for name, body := range map[string]string{
		"unknown field":  `{"name":"x","inn":"1","bik":"2","account":"3","iban":"4"}`,
		"missing fields": `{"name":"x"}`,
		"not JSON":       `name=x`,
	} {
		if _, err := (&paymentFlags{payeeFile: write(name, body)}).payee(); err == nil {
			t.Errorf("%s: payee file accepted", name)
		}
	}
	if p, err := (&paymentFlags{}).payee(); p != nil || err != nil {
		t.Errorf("no payee file: %+v, %v; want the built-in payee", p, err)
	}
}
