package bench

// The reference of BenchmarkCommands: pgbench writing the rows one chat
// message command writes, in one transaction each, into the same migrated
// schema on the same PostgreSQL cluster, with the same number of
// concurrent writers. What is left of our commands/s against it is the
// cost of everything that is not writing rows: HTTP and JSON, the token
// check, the visibility read, the recipients' reads, Go.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgcluster"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
)

// commandRows is the pgbench script: the writes of Service.PostMessage for
// an applicant's message in an organisation of one member with no experts
// (the world of BenchmarkCommands), statement for statement as the server
// log shows them with log_statement = all — the message, the author's read
// mark, the change counter, the change-log row with the message as its
// payload, and the wake-up of the other replicas. Its reads (session,
// user, application, experts, members) are left out: they are ours.
const commandRows = `\set n random(1, 1000000)
BEGIN;
INSERT INTO messages (app_id, channel, author_id, body, attachments, created_at)
  VALUES (:app, 'applicant', :author, 'сообщение ' || :n, '{}', now()) RETURNING id AS msg \gset
INSERT INTO message_reads (user_id, app_id, channel, last_read_id) VALUES (:author, :app, 'applicant', :msg)
  ON CONFLICT (user_id, app_id, channel) DO UPDATE SET last_read_id = greatest(message_reads.last_read_id, :msg)
  RETURNING last_read_id \gset
UPDATE change_counter SET last = last + 1 WHERE id = 1 RETURNING last AS seq \gset
INSERT INTO change_log (seq, at, kind, app_id, org_id, expert_ids, staff_only, org_only, user_id, payload)
  VALUES (:seq, now(), 'message', :app, :org, '{}', false, false, NULL,
  jsonb_build_object('id', :msg::bigint, 'body', 'сообщение ' || :n, 'app_id', :app::bigint, 'channel', 'applicant',
    'author_id', :author::bigint, 'created_at', now(), 'author_name', 'Заявитель Тестовый'));
SELECT pg_notify('expertiza_changes', :seq::text);
END;
`

// pgbenchPath finds pgbench beside the test cluster's binaries, then in
// the distribution's PostgreSQL folders, then on PATH.
func pgbenchPath() (string, error) {
	var dirs []string
	if c := pgtest.Cluster(); c != nil {
		dirs = append(dirs, c.BinDir())
	}
	if d, err := pgcluster.FindBinDir(); err == nil {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "pgbench"); fileExists(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("pgbench not found beside initdb (%v) nor on PATH: install the postgresql package (Debian ships pgbench in postgresql-15)", dirs)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
var processedLine = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)

// BenchmarkCommands_pgbench: the rows of b.N chat messages written by
// pgbench (prepared statements, as pgx's statement cache does) from as
// many connections as BenchmarkCommands has writers; commands/s is
// pgbench's tps without connection set-up.
func BenchmarkCommands_pgbench(b *testing.B) {
	bin, err := pgbenchPath()
	if err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	db := pgtest.NewDB(b)
	// The same world as BenchmarkCommands, made through the API; the server
	// is then stopped, so nothing but pgbench touches the database.
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(),
		Log: testenv.Logger(b), DataDir: b.TempDir(), ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache()})
	if err != nil {
		b.Fatal(err)
	}
	app, a := world(b, s)
	if err := s.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(b.TempDir(), "commands.sql")
	if err := os.WriteFile(script, []byte(commandRows), 0o600); err != nil {
		b.Fatal(err)
	}
	// The password goes in the environment, not on a command line others can read.
	u, err := url.Parse(db)
	if err != nil {
		b.Fatal(err)
	}
	pass, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	writers := 8 * runtime.GOMAXPROCS(0) // BenchmarkCommands: SetParallelism(8)

	b.ResetTimer()
	perClient := max(1, b.N/writers)
	cmd := exec.CommandContext(ctx, bin, "--no-vacuum", "--protocol=prepared",
		"--client="+strconv.Itoa(writers), "--jobs="+strconv.Itoa(runtime.GOMAXPROCS(0)),
		"--transactions="+strconv.Itoa(perClient), "--file="+script,
		"--define=app="+strconv.FormatInt(a.ID, 10), "--define=author="+strconv.FormatInt(app.User.ID, 10),
		"--define=org="+strconv.FormatInt(a.OrgID, 10), u.String())
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pass)
	out, err := cmd.CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	tps := tpsLine.FindSubmatch(out)
	done := processedLine.FindSubmatch(out)
	if tps == nil || done == nil {
		b.Fatalf("pgbench printed no tps or count:\n%s", out)
	}
	if n, _ := strconv.Atoi(string(done[1])); n != perClient*writers {
		b.Fatalf("pgbench committed %d of %d transactions:\n%s", n, perClient*writers, out)
	}
	v, _ := strconv.ParseFloat(string(tps[1]), 64)
	b.ReportMetric(v, "commands/s")
	b.ReportMetric(0, "ns/op")
}
