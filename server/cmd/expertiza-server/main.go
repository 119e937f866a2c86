// Command expertiza-server is the Expertiza sync server and its admin tool.
//
//	expertiza-server serve [--listen :8443] [--data DIR] [--tls-cert F --tls-key F]
//	    [--smtp-addr H:P --smtp-from ADDR [--smtp-starttls required|opportunistic|none]
//	     [--smtp-user U --smtp-password-file F] [--mail-digest-hour 8]]
//	    [--payment-secret-file F] [--payee-file F.json]
//	expertiza-server migrate [--data DIR]
//	expertiza-server user add --login L --name N --role R [--email E] [--org-inn INN] [--totp]
//	expertiza-server user list|disable|enable|unlock|reset-2fa|role [LOGIN [ROLE]] [--data DIR]
//	expertiza-server org list [--search TEXT] [--data DIR]
//	expertiza-server calendar set YYYY-MM-DD working|holiday [--data DIR]
//	expertiza-server seed-demo [--data DIR]
//	expertiza-server backup --out DIR [--data DIR]
//	expertiza-server audit verify [--data DIR]
//	expertiza-server pd-key rotate|reencrypt [--data DIR] [--pd-key-file F]
//
// EXPERTIZA_DATABASE_URL selects an external PostgreSQL; without it the
// embedded cluster under --data is used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/expertiza/expertiza/server/blob"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/validate"
	"github.com/expertiza/expertiza/sync/wire"
)

func main() {
	// The guarded PDF worker: this same binary, started by the server for
	// each PDF, with nothing else running in the process.
	if len(os.Args) > 1 && os.Args[1] == "validate-worker" {
		os.Exit(validate.WorkerMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if we, ok := wire.AsError(err); ok {
			fmt.Fprintln(os.Stderr, "error:", we.MessageEN)
		} else {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: expertiza-server <command> [flags]

commands:
  serve       run the sync server
  migrate     apply database migrations
  user add    create a user (asks for the password; never a default one)
  user list|disable|enable|unlock|reset-2fa|role  list and administer accounts
  org list    list organisations
  calendar set  mark a date working or a holiday
  seed-demo   load demo data in Russian (organisations, applications, experts)
  backup      dump the database and the blob folder
  audit verify  check the audit journal's hash chain
  pd-key      rotate the personal-data key (rotate) or re-encrypt (reencrypt)
  verify      re-hash every stored file and check each version has its file
  totp-code   print the current one-time code of a demo account

Run "expertiza-server <command> -h" for its flags.
EXPERTIZA_DATABASE_URL selects an external PostgreSQL; otherwise an embedded
cluster is kept under --data using the machine's PostgreSQL binaries.
`

// common are the flags every command shares.
type common struct {
	data      string
	logFormat string
	logLevel  string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", defaultDataDir(), "data directory (embedded PostgreSQL, blobs)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", c.logFormat)
}

func defaultDataDir() string {
	if d := os.Getenv("EXPERTIZA_DATA"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return home + "/.local/share/expertiza-server"
	}
	return "expertiza-data"
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "migrate":
		return withDB(ctx, "migrate", rest, stderr, nil, func(ctx context.Context, env *cliEnv) error {
			fmt.Fprintln(stdout, "migrations applied")
			return nil
		})
	case "user":
		if len(rest) > 0 && rest[0] != "add" {
			return cmdUserAdmin(ctx, rest, stdout, stderr)
		}
		if len(rest) == 0 || rest[0] != "add" {
			return errors.New(`usage: expertiza-server user add --login L --name N --role R`)
		}
		return cmdUserAdd(ctx, rest[1:], stdin, stdout, stderr)
	case "org":
		return cmdOrg(ctx, rest, stdout, stderr)
	case "calendar":
		return cmdCalendar(ctx, rest, stdout, stderr)
	case "seed-demo":
		return cmdSeed(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "audit":
		if len(rest) == 0 || rest[0] != "verify" {
			return errors.New(`usage: expertiza-server audit verify`)
		}
		return cmdAuditVerify(ctx, rest[1:], stdout, stderr)
	case "pd-key":
		return cmdPDKey(ctx, rest, stdout, stderr)
	case "verify":
		var s3 s3Flags
		return withDB(ctx, "verify", rest, stderr, s3.register, func(ctx context.Context, env *cliEnv) error {
			return cmdVerify(ctx, env, &s3, stdout)
		})
	case "totp-code":
		var login string
		extra := func(fs *flag.FlagSet) { fs.StringVar(&login, "login", "", "demo login") }
		return withDB(ctx, "totp-code", rest, stderr, extra, func(ctx context.Context, env *cliEnv) error {
			code, err := seed.TOTPCode(ctx, env.svc, login)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, code)
			return nil
		})
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	listen := fs.String("listen", "127.0.0.1:8443", "address to listen on")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	trustProxy := fs.Bool("trust-proxy", false, "take the client address from X-Forwarded-For (behind a reverse proxy)")
	composition := fs.Bool("password-composition", false, "also require letters, digits and symbols in passwords")
	maxDoc := fs.Int64("max-doc-mb", 80, "largest documentation file (PDF, XML, spreadsheets, DOCX, signatures), MB")
	maxScan := fs.Int64("max-scan-mb", 10, "largest scan (JPEG, PNG), MB")
	quota := fs.Int64("quota-gb", 50, "storage quota per user, GB")
	uploadTTL := fs.Duration("upload-ttl", 24*time.Hour, "remove uploads left unfinished this long")
	var s3 s3Flags
	s3.register(fs)
	var mf mailFlags
	mf.register(fs)
	var pf paymentFlags
	pf.register(fs)
	var pdf pdFlags
	pdf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	smtpCfg, err := mf.config()
	if err != nil {
		return err
	}
	if smtpCfg.Addr == "" {
		log.Info("e-mail notifications off: no --smtp-addr given")
	}
	paySecret, err := pf.secret()
	if err != nil {
		return err
	}
	payee, err := pf.payee()
	if err != nil {
		return err
	}
	pdKeys, err := pdf.envKeys()
	if err != nil {
		return err
	}
	if paySecret == nil {
		log.Info("payment gateway callbacks off: no --payment-secret-file or " + EnvPaymentSecret)
	}
	db, err := boot.OpenDatabase(ctx, os.Getenv(boot.EnvDatabaseURL), c.data, log)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Close(stopCtx); err != nil {
			log.Error("stopping PostgreSQL", "err", err)
		}
	}()
	blobs, err := s3.open(ctx, log)
	if err != nil {
		return err
	}
	lim := validate.DefaultLimits()
	lim.Documentation, lim.Scan = *maxDoc<<20, *maxScan<<20
	scfg := service.DefaultConfig()
	scfg.Policy.Composition = *composition
	srv, err := boot.Start(ctx, boot.Config{Listen: *listen, DatabaseURL: db.URL, TLSCert: *cert, TLSKey: *key,
		TrustProxy: *trustProxy, Service: scfg, Log: log, DataDir: c.data, Blobs: blobs,
		Limits: &lim, Quota: *quota << 30, UploadTTL: *uploadTTL, SMTP: smtpCfg, MailDigestHour: mf.digestHour,
		PaymentSecret: paySecret, Payee: payee, PDKeys: pdKeys, PDKeyFile: pdf.keyFile})
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-waitErr(srv):
		if err != nil {
			return err
		}
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shCtx)
}

func waitErr(s *boot.Server) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Wait() }()
	return ch
}

// EnvSMTPPassword holds the SMTP password when no --smtp-password-file is given.
const EnvSMTPPassword = "EXPERTIZA_SMTP_PASSWORD"

// mailFlags configure e-mail notifications.
type mailFlags struct {
	addr, starttls, user, passwordFile, from string
	timeout                                  time.Duration
	digestHour                               int
}

func (f *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "smtp-addr", "", "SMTP submission server host:port for e-mail notifications; without it no e-mail is queued or sent")
	fs.StringVar(&f.starttls, "smtp-starttls", string(mail.TLSRequired), "STARTTLS: required (never send in clear), opportunistic, or none")
	fs.StringVar(&f.user, "smtp-user", "", "SMTP AUTH user name (none: no AUTH)")
	fs.StringVar(&f.passwordFile, "smtp-password-file", "", "file holding the SMTP password (else "+EnvSMTPPassword+")")
	fs.StringVar(&f.from, "smtp-from", "", `From address of notifications, e.g. "Экспертиза <noreply@example.ru>"`)
	fs.DurationVar(&f.timeout, "smtp-timeout", 30*time.Second, "SMTP connection and command timeout")
	fs.IntVar(&f.digestHour, "mail-digest-hour", 8, "Moscow hour (0-23) of the daily e-mail digests, and on Mondays the weekly ones")
}

// config returns the SMTP settings; an empty Addr means mail is off.
func (f *mailFlags) config() (mail.SMTPConfig, error) {
	if f.addr == "" {
		return mail.SMTPConfig{}, nil
	}
	mode, err := mail.ParseTLSMode(f.starttls)
	if err != nil {
		return mail.SMTPConfig{}, fmt.Errorf("--smtp-starttls: %w", err)
	}
	if f.digestHour < 0 || f.digestHour > 23 {
		return mail.SMTPConfig{}, fmt.Errorf("--mail-digest-hour %d: use 0-23 (Moscow time)", f.digestHour)
	}
	cfg := mail.SMTPConfig{Addr: f.addr, TLSMode: mode, Username: f.user, From: f.from, Timeout: f.timeout}
	if f.user != "" {
		if cfg.Password, err = mail.LoadPassword(f.passwordFile, EnvSMTPPassword); err != nil {
			return mail.SMTPConfig{}, err
		}
		if cfg.Password == "" {
			return mail.SMTPConfig{}, errors.New("--smtp-user needs a password: --smtp-password-file FILE or " + EnvSMTPPassword)
		}
	}
	// Checked here so that a bad setting stops the server before it opens the database.
	if _, err := mail.NewSMTP(cfg); err != nil {
		return mail.SMTPConfig{}, fmt.Errorf("e-mail settings: %w", err)
	}
	return cfg, nil
}

// s3Flags select S3-compatible object storage for file contents.
type s3Flags struct {
	endpoint, bucket string
	tls              bool
}

func (f *s3Flags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "s3-endpoint", "", "S3-compatible object storage host:port for file contents (several replicas); keys from EXPERTIZA_S3_ACCESS_KEY and EXPERTIZA_S3_SECRET_KEY")
	fs.StringVar(&f.bucket, "s3-bucket", "expertiza", "bucket for file contents (must exist)")
	fs.BoolVar(&f.tls, "s3-tls", true, "use HTTPS to the object storage")
}

// open returns the S3 store, or nil when none was asked for (the folder
// store under --data is used then).
func (f *s3Flags) open(ctx context.Context, log *slog.Logger) (blob.Store, error) {
	if f.endpoint == "" {
		return nil, nil
	}
	s3, err := blob.NewS3(ctx, blob.S3Config{Endpoint: f.endpoint, Bucket: f.bucket, UseTLS: f.tls, Prefix: "blobs",
		AccessKey: os.Getenv("EXPERTIZA_S3_ACCESS_KEY"), SecretKey: os.Getenv("EXPERTIZA_S3_SECRET_KEY"), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	return s3, nil
}
