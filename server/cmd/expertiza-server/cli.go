package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/expertiza/expertiza/server/blob"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/store/migrations"
	"github.com/expertiza/expertiza/sync/wire"
)

// cliEnv is an open, migrated database and a service over it.
type cliEnv struct {
	db   *boot.Database
	pool *pgxpool.Pool
	svc  *service.Service
	st   *store.Store
	log  *slog.Logger
	data string
}

// withDB parses the common flags plus extra, opens and migrates the
// database, runs fn, and stops the embedded cluster if this process
// started it.
func withDB(ctx context.Context, name string, args []string, stderr io.Writer, extra func(*flag.FlagSet), fn func(context.Context, *cliEnv) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	db, err := boot.OpenDatabase(ctx, os.Getenv(boot.EnvDatabaseURL), c.data, log)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Close(stopCtx)
	}()
	if err := migrations.Up(ctx, db.URL, log); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer pool.Close()
	st := store.New(pool)
	files, err := boot.FilesOption(boot.Config{DataDir: c.data}, log)
	if err != nil {
		return err
	}
	svc := service.New(st, service.DefaultConfig(), log, nil, files)
	if err := svc.LoadCalendar(ctx); err != nil {
		return err
	}
	return fn(ctx, &cliEnv{db: db, pool: pool, svc: svc, st: st, log: log, data: c.data})
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var in service.NewUserInput
	var role, orgINN string
	var pwStdin bool
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&in.Login, "login", "", "login (required)")
		fs.StringVar(&in.FullName, "name", "", "full name (required)")
		fs.StringVar(&in.Email, "email", "", "e-mail")
		fs.StringVar(&in.Phone, "phone", "", "phone")
		fs.StringVar(&role, "role", "", "applicant, expert, manager or admin (required)")
		fs.StringVar(&orgINN, "org-inn", "", "applicants: INN of their registered organisation")
		fs.BoolVar(&in.TOTP, "totp", false, "enrol two-factor authentication now and print the otpauth URL")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	}
	return withDB(ctx, "user add", args, stderr, extra, func(ctx context.Context, env *cliEnv) error {
		in.Role = wire.Role(role)
		if in.Login == "" || in.FullName == "" || role == "" {
			return errors.New("user add: --login, --name and --role are required")
		}
		if orgINN != "" {
			var id int64
			if err := env.pool.QueryRow(ctx, `SELECT id FROM organisations WHERE inn = $1`, orgINN).Scan(&id); err != nil {
				return fmt.Errorf("no organisation with INN %s is registered: %w", orgINN, err)
			}
			in.OrgID = id
		}
		pw, err := readPassword(stdin, stderr, pwStdin)
		if err != nil {
			return err
		}
		in.Password = pw
		res, err := env.svc.AddUser(ctx, nil, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %q created (id %d, role %s)\n", res.User.Login, res.User.ID, res.User.Role)
		if res.OTPAuthURL != "" {
			fmt.Fprintf(stdout, "two-factor secret (add to an authenticator app): %s\notpauth URL: %s\n", res.TOTPSecret, res.OTPAuthURL)
		} else if in.Role.RequiresTOTP() {
			fmt.Fprintln(stdout, "this role needs two-factor authentication: the first sign-in will ask to enrol it")
		}
		return nil
	})
}

// readPassword asks twice without echo on a terminal, or reads one line
// from stdin with --password-stdin. There is never a default password.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("empty password on standard input")
		}
		return pw, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask for the password: pass --password-stdin and pipe it in")
	}
	fmt.Fprint(stderr, "Password: ")
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Repeat password: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords differ")
	}
	return string(a), nil
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var credsFile string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&credsFile, "credentials", "", "where to write the demo logins and passwords (default DATA/demo-credentials.txt)")
	}
	return withDB(ctx, "seed-demo", args, stderr, extra, func(ctx context.Context, env *cliEnv) error {
		res, err := seed.Demo(ctx, env.svc)
		if err != nil {
			return err
		}
		if credsFile == "" {
			credsFile = filepath.Join(env.data, "demo-credentials.txt")
		}
		if res.Already {
			fmt.Fprintf(stdout, "demo data already loaded; logins and passwords: %s\n", credsFile)
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(credsFile), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(credsFile, []byte(res.Credentials()), 0o600); err != nil {
			return fmt.Errorf("write demo credentials: %w", err)
		}
		fmt.Fprintf(stdout, "demo data loaded: %d organisations, %d users, %d applications\n", res.Orgs, len(res.Users), res.Apps)
		fmt.Fprintf(stdout, "demo logins and passwords: %s\n", credsFile)
		return nil
	})
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	extra := func(fs *flag.FlagSet) { fs.StringVar(&out, "out", "", "folder to write the backup into (required)") }
	return withDB(ctx, "backup", args, stderr, extra, func(ctx context.Context, env *cliEnv) error {
		if out == "" {
			return errors.New("backup: --out DIR is required")
		}
		stamp := time.Now().UTC().Format("20060102T150405Z")
		dir := filepath.Join(out, "expertiza-"+stamp)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		pgDump := "pg_dump"
		if env.db.Cluster != nil {
			pgDump = filepath.Join(env.db.Cluster.BinDir(), "pg_dump")
		}
		dump := filepath.Join(dir, "database.dump")
		cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--file="+dump, "--dbname="+env.db.URL)
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("pg_dump failed (is the PostgreSQL client installed?): %w", err)
		}
		blobs := filepath.Join(env.data, "blobs")
		if _, err := os.Stat(blobs); err == nil {
			tar := exec.CommandContext(ctx, "tar", "-C", env.data, "-cf", filepath.Join(dir, "blobs.tar"), "blobs")
			tar.Stderr = stderr
			if err := tar.Run(); err != nil {
				return fmt.Errorf("archive blobs: %w", err)
			}
		}
		fmt.Fprintf(stdout, "backup written to %s (restore: pg_restore --clean --dbname=URL %s)\n", dir, dump)
		return nil
	})
}

func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withDB(ctx, "audit verify", args, stderr, nil, func(ctx context.Context, env *cliEnv) error {
		rep, err := env.svc.VerifyAudit(ctx, nil)
		if err != nil {
			return err
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "row %d: %s\n", p.ID, p.Reason)
		}
		if !rep.Intact {
			return fmt.Errorf("audit journal damaged: %d problems in %d rows", len(rep.Problems), rep.Rows)
		}
		fmt.Fprintf(stdout, "audit journal intact: %d rows verified\n", rep.Rows)
		return nil
	})
}

// cmdVerify scrubs the file store, folder or S3 (every file re-hashed), and checks that
// every version and signature recorded in the database has its file.
func cmdVerify(ctx context.Context, env *cliEnv, s3 *s3Flags, stdout io.Writer) error {
	fs, err := s3.open(ctx, env.log)
	if err != nil {
		return err
	}
	if fs == nil {
		if fs, err = blob.NewFS(filepath.Join(env.data, "blobs")); err != nil {
			return err
		}
	}
	checked, bad, err := blob.Scrub(ctx, fs, func(digest string, err error) {
		fmt.Fprintf(stdout, "corrupt: %s: %v\n", digest, err)
	})
	if err != nil {
		return err
	}
	rows, err := env.pool.Query(ctx, `SELECT sha256 FROM document_versions UNION SELECT sha256 FROM signatures`)
	if err != nil {
		return fmt.Errorf("list referenced files: %w", err)
	}
	defer rows.Close()
	missing := 0
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			return err
		}
		if _, err := fs.Stat(ctx, sha); err != nil {
			missing++
			fmt.Fprintf(stdout, "missing: %s: %v\n", sha, err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if bad > 0 || missing > 0 {
		return fmt.Errorf("file store damaged: %d of %d files corrupt, %d referenced files missing", bad, checked, missing)
	}
	fmt.Fprintf(stdout, "file store intact: %d files verified\n", checked)
	return nil
}
