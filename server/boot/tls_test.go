package boot_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestTLS: with a certificate the server speaks HTTPS and WSS only.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), TLSCert: certPath, TLSKey: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	if s.URL()[:8] != "https://" {
		t.Fatalf("URL %s", s.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := client.New(s.URL(), client.WithHTTPClient(hc))
	if _, err := c.Calendar(ctx); err != nil {
		t.Fatalf("HTTPS call: %v", err)
	}
	plain := client.New("http://" + s.Addr.String())
	if _, err := plain.Calendar(ctx); err == nil {
		t.Fatal("plain HTTP was answered on the TLS port")
	}
	// The WebSocket goes over TLS too.
	pw := "correct horse battery staple"
	if _, err := c.Register(ctx, wire.RegisterRequest{Login: "tls.user", Password: pw, FullName: "Тест", Email: "t@example.ru",
		Organisation: wire.OrganisationInput{Name: "ООО «ТЛС»", INN: testenv.ValidINN(777), OGRN: testenv.ValidOGRN(777), Address: "Москва"}}); err != nil {
		t.Fatal(err)
	}
	rec := testenv.NewRecorder()
	c2 := client.New(s.URL(), client.WithHTTPClient(hc))
	if _, err := c2.Login(ctx, wire.LoginRequest{Login: "tls.user", Password: pw}); err != nil {
		t.Fatal(err)
	}
	st := c2.NewStream(rec, nil)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go st.Run(sctx)
	rec.WaitFor(t, 5*time.Second, "WSS online", func(r *testenv.Recorder) bool { return r.LastState() == client.StateOnline })
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
