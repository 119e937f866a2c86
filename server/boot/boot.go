// Package boot assembles the sync server: the database (embedded cluster or
// an external URL), migrations, the service, the hub and the HTTP API. Both
// the expertiza-server binary and end-to-end tests start servers with it.
package boot

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/expertiza/expertiza/server/blob"
	"github.com/expertiza/expertiza/server/httpapi"
	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/pgcluster"
	"github.com/expertiza/expertiza/server/realtime"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/sig"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/store/migrations"
	"github.com/expertiza/expertiza/server/validate"
)

// EnvDatabaseURL selects an external PostgreSQL instead of the embedded one.
const EnvDatabaseURL = "EXPERTIZA_DATABASE_URL"

// Database is an open database: its URL, and what to stop on Close.
type Database struct {
	URL     string
	Cluster *pgcluster.Cluster // nil for an external database
}

// Close stops the embedded cluster, if we started it.
func (d *Database) Close(ctx context.Context) error {
	if d.Cluster == nil {
		return nil
	}
	return d.Cluster.Stop(ctx)
}

// OpenDatabase uses url when given, else starts the embedded cluster under
// dataDir/postgres.
func OpenDatabase(ctx context.Context, url, dataDir string, log *slog.Logger) (*Database, error) {
	if url != "" {
		return &Database{URL: url}, nil
	}
	if dataDir == "" {
		return nil, errors.New("no database: set " + EnvDatabaseURL + " or pass --data DIR for the embedded PostgreSQL")
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dataDir, "postgres"), Logger: log})
	if err != nil {
		return nil, err
	}
	return &Database{URL: c.URL(), Cluster: c}, nil
}

// Config configures a server.
type Config struct {
	Listen      string // host:port; port 0 picks one
	DatabaseURL string
	TLSCert     string
	TLSKey      string
	TrustProxy  bool
	Service     service.Config
	Log         *slog.Logger
	// Clock replaces the service clock (tests of deadlines and expiry).
	Clock func() time.Time
	// ReminderEvery is how often deadlines are checked; default 15 minutes.
	ReminderEvery time.Duration
	// DataDir holds the blob folder and upload spool; empty disables files.
	DataDir string
	// Blobs replaces the folder blob store (S3 for several replicas).
	Blobs blob.Store
	// ValidateWorker starts the guarded PDF worker process; nil re-runs this
	// executable as `validate-worker` (the server binary's hidden command).
	ValidateWorker validate.WorkerCmd
	// Limits overrides the validation limits (sizes per kind, PDF worker
	// caps); nil takes validate.DefaultLimits.
	Limits *validate.Limits
	// NoValidation stores files without checking their content: only for
	// tests of the transfer protocol itself, never for a server.
	NoValidation bool
	// LetterRenderer replaces the PDF typesetter of notice letters (tests
	// inject failures with it); nil means pdfdoc, its fonts cached under
	// DataDir/cache/pdfdoc.
	LetterRenderer service.LetterRenderer
	// ConclusionRenderer replaces the PDF typesetter of conclusions (tests
	// inject failures with it); nil means pdfdoc, as for letters.
	ConclusionRenderer service.LetterRenderer
	// FontCache is where pdfdoc keeps its fonts; empty means
	// DataDir/cache/pdfdoc. pdfcpu has one font directory per process, so
	// several servers in one process (tests) should share one that outlives
	// them all.
	FontCache string
	// PaymentSecret is the shared secret that authenticates the payment
	// gateway's callbacks (HMAC-SHA256); empty refuses every callback.
	PaymentSecret []byte
	// Payee is the expertise office printed on contracts, invoices and
	// receipts; nil means service.DefaultPayee.
	Payee *service.Payee
	// ContractRenderer replaces the PDF typesetter of contracts, invoices
	// and receipts (tests inject failures with it); nil means pdfdoc.
	ContractRenderer service.LetterRenderer
	// LetterRetry is the delay before a failed letter is tried again,
	// doubled after each further failure; zero takes the service default.
	LetterRetry time.Duration
	// Upload tuning; zero values take the service defaults.
	ChunkSize int
	Quota     int64
	UploadTTL time.Duration
	// SMTP configures e-mail notifications; with an empty Addr mail is off
	// and nothing is queued (see service.MailConfig).
	SMTP mail.SMTPConfig
	// MailDigestHour is the Moscow hour (0–23) of the daily digests and,
	// on Mondays, the weekly ones.
	MailDigestHour int
	// MailPoll is how often queued mail is looked for; default 5 s.
	MailPoll time.Duration
	// PDKeys are the personal-data keys, the current one first (from
	// EXPERTIZA_PD_KEY); when empty they are read from PDKeyFile, by
	// default DataDir/secrets/personal-data.key, made on first start
	// (personal_key.go, docs/personal-data.md).
	PDKeys    [][]byte
	PDKeyFile string
}

// mailOption builds the service's e-mail from cfg, registering its
// counters with reg; nil when no SMTP server is configured.
func mailOption(cfg Config, reg prometheus.Registerer, log *slog.Logger) (service.Option, error) {
	if cfg.SMTP.Addr == "" {
		return nil, nil
	}
	if cfg.MailDigestHour < 0 || cfg.MailDigestHour > 23 {
		return nil, fmt.Errorf("mail digest hour %d: use 0–23 (Moscow time)", cfg.MailDigestHour)
	}
	sender, err := mail.NewSMTP(cfg.SMTP)
	if err != nil {
		return nil, err
	}
	r, err := mail.NewRenderer()
	if err != nil {
		return nil, err
	}
	log.Info("e-mail notifications on", "smtp", sender.String(), "digest_hour_msk", cfg.MailDigestHour)
	return service.WithMail(service.MailConfig{Sender: sender, Renderer: r, Metrics: mail.NewMetrics(reg),
		MessageIDDomain: sender.FromDomain(), DigestHour: cfg.MailDigestHour, Poll: cfg.MailPoll}), nil
}

// validator adapts validate.Validator to the service.
type validator struct{ v *validate.Validator }

func (a validator) Check(ctx context.Context, path, name string) (service.FileCheck, error) {
	r, err := a.v.Check(ctx, path, name)
	if err != nil {
		return service.FileCheck{}, err
	}
	return service.FileCheck{Kind: string(r.Kind), Pages: r.Pages, PageSizes: r.WirePageSizes(), Encrypted: r.Encrypted}, nil
}

// FilesOption builds the service's file storage from cfg: the blob store
// (cfg.Blobs, else a folder under DataDir), the upload spool, validation in
// the guarded worker, and signature checking. The CLI uses it too.
func FilesOption(cfg Config, log *slog.Logger) (service.Option, error) {
	var bs service.Blobs = blobs{cfg.Blobs}
	if cfg.Blobs == nil {
		fs, err := blob.NewFS(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return nil, err
		}
		// The spool lives beside the blobs, on the same file system.
		bs = fsBlobs{blobs{fs}, fs}
	}
	var check service.Validator
	if !cfg.NoValidation {
		worker := cfg.ValidateWorker
		if worker == nil {
			var err error
			if worker, err = SelfWorker(); err != nil {
				return nil, err
			}
		}
		lim := validate.DefaultLimits()
		if cfg.Limits != nil {
			lim = *cfg.Limits
		}
		check = validator{validate.New(lim, log, worker)}
	}
	return service.WithFiles(service.Files{Blobs: bs, SpoolDir: filepath.Join(cfg.DataDir, "uploads"), Signature: signatures{}, Validator: check,
		ChunkSize: cfg.ChunkSize, Quota: cfg.Quota, StaleTTL: cfg.UploadTTL}), nil
}

// SelfWorker re-runs the current executable as the PDF worker.
func SelfWorker() (validate.WorkerCmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the PDF worker: %w", err)
	}
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, "validate-worker")
		cmd.Env = []string{"LANG=C.UTF-8"} // the worker needs nothing of the server's environment (no secrets)
		return cmd
	}, nil
}

// signatures adapts sig.Check to the service's JSON report.
type signatures struct{}

func (signatures) Check(ctx context.Context, sigBytes []byte, doc io.Reader) (json.RawMessage, error) {
	rep, err := sig.Check(ctx, sigBytes, doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rep)
}

// blobs adapts blob.Store to what the service needs.
type blobs struct{ s blob.Store }

func (b blobs) Put(ctx context.Context, r io.Reader, want string) (string, int64, error) {
	return b.s.Put(ctx, r, want)
}

func (b blobs) Open(ctx context.Context, digest string) (io.ReadSeekCloser, int64, error) {
	return b.s.Open(ctx, digest)
}

// fsBlobs adds the rename-into-place path of the folder store.
type fsBlobs struct {
	blobs
	fs *blob.FS
}

func (b fsBlobs) Adopt(ctx context.Context, path, digest string) (int64, error) {
	return b.fs.Adopt(ctx, path, digest)
}

// Server is a running sync server.
type Server struct {
	Addr    net.Addr
	Service *service.Service
	Hub     *realtime.Hub
	API     *httpapi.API
	Pool    *pgxpool.Pool

	http   *http.Server
	cancel context.CancelFunc
	done   chan error
	hubErr chan error
	// mailDone closes when the mail worker has stopped (at once with mail off).
	mailDone chan struct{}
	log      *slog.Logger
	tls      bool

	stopOnce sync.Once
	stopErr  error
}

// URL is the base address clients use.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.Addr.String()
}

// Start migrates the database and starts serving; it returns once the
// listener is open and the hub is ready.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := migrations.Up(ctx, cfg.DatabaseURL, log); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pcfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st := store.New(pool)
	hub := realtime.NewHub(st, cfg.DatabaseURL, log, realtime.NewMetrics(reg))
	var opts []service.Option
	if cfg.Clock != nil {
		opts = append(opts, service.WithClock(cfg.Clock))
	}
	if cfg.DataDir != "" || cfg.Blobs != nil {
		files, err := FilesOption(cfg, log)
		if err != nil {
			pool.Close()
			return nil, err
		}
		opts = append(opts, files)
		// Notice letters are kept in the file store, so they come with it.
		fonts := cfg.FontCache
		if fonts == "" {
			fonts = filepath.Join(cfg.DataDir, "cache", "pdfdoc")
		}
		opts = append(opts, service.WithLetters(service.LetterConfig{Renderer: cfg.LetterRenderer, FontCache: fonts, Backoff: cfg.LetterRetry}))
		// So are conclusion files (PDF and XML).
		opts = append(opts, service.WithConclusions(service.ConclusionConfig{Renderer: cfg.ConclusionRenderer, FontCache: fonts, Backoff: cfg.LetterRetry}))
		// So are the contract, invoice and receipt PDFs.
		opts = append(opts, service.WithContractDocs(service.ContractDocsConfig{Renderer: cfg.ContractRenderer, FontCache: fonts, Backoff: cfg.LetterRetry}))
	}
	mailOpt, err := mailOption(cfg, reg, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if mailOpt != nil {
		opts = append(opts, mailOpt)
	}
	payCfg := service.PaymentConfig{Secret: cfg.PaymentSecret}
	if cfg.Payee != nil {
		payCfg.Payee = *cfg.Payee
	}
	opts = append(opts, service.WithPayments(payCfg))
	pdOpt, pdSource, err := pdOption(cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if pdOpt != nil {
		opts = append(opts, pdOpt)
		log.Info("personal data encrypted at rest", "keys", pdSource)
	} else {
		log.Warn("personal data refused: no " + EnvPDKey + " and no data folder for the key file")
	}
	svc := service.New(st, cfg.Service, log, hub, opts...)
	if err := svc.LoadCalendar(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	api := httpapi.New(svc, hub, log, reg)
	api.TrustProxy = cfg.TrustProxy

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{Addr: ln.Addr(), Service: svc, Hub: hub, API: api, Pool: pool, cancel: cancel,
		done: make(chan error, 1), hubErr: make(chan error, 1), mailDone: make(chan struct{}), log: log,
		http: &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			BaseContext: func(net.Listener) context.Context { return runCtx }}}
	go func() { s.hubErr <- hub.Run(runCtx) }()
	every := cfg.ReminderEvery
	if every <= 0 {
		every = 15 * time.Minute
	}
	go svc.RunReminders(runCtx, every)
	go svc.RunLetters(runCtx)
	go svc.RunConclusions(runCtx)
	go svc.RunContractDocs(runCtx)
	go func() { defer close(s.mailDone); svc.RunMail(runCtx) }()
	select {
	case <-hub.Ready():
	case <-ctx.Done():
		cancel()
		ln.Close()
		pool.Close()
		return nil, ctx.Err()
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			cancel()
			ln.Close()
			pool.Close()
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.http.TLSConfig)
		s.tls = true
	}
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	log.Info("sync server listening", "addr", s.URL())
	return s, nil
}

// Wait blocks until the HTTP server stops.
func (s *Server) Wait() error { return <-s.done }

// Shutdown stops accepting requests, closes WebSockets with a reconnect
// code, waits for requests in flight, and closes the pool.
// It may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.cancel() // the hub closes every socket with CloseReconnect
		<-s.hubErr
		// A message being sent gets its outcome written before the pool closes.
		select {
		case <-s.mailDone:
		case <-ctx.Done():
		}
		s.stopErr = s.http.Shutdown(ctx)
		s.Pool.Close()
	})
	return s.stopErr
}
