package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// binEnv overrides the detection of the PostgreSQL binaries.
const binEnv = "EXPERTIZA_PG_BIN"

// FindBinDir returns the directory holding initdb, pg_ctl and postgres: $EXPERTIZA_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin (Debian) or /usr/pgsql-*/bin (RHEL), else the
// directory of initdb on PATH.
func FindBinDir() (string, error) {
	dirs, err := binDirs()
	if err != nil {
		return "", err
	}
	return dirs[0], nil
}

// binDirs lists the usable binary directories, preferred first.
func binDirs() ([]string, error) {
	if dir := os.Getenv(binEnv); dir != "" {
		if err := checkBinDir(dir); err != nil {
			return nil, fmt.Errorf("%s: %w", binEnv, err)
		}
		return []string{dir}, nil
	}
	var dirs []string
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		matches, _ := filepath.Glob(pattern) // the patterns are constant and valid
		slices.SortFunc(matches, func(a, b string) int {
			return slices.Compare(versionKey(filepath.Base(filepath.Dir(b))), versionKey(filepath.Base(filepath.Dir(a))))
		})
		for _, d := range matches {
			if checkBinDir(d) == nil {
				dirs = append(dirs, d)
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(p); checkBinDir(d) == nil && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil, errors.New("PostgreSQL server binaries not found: install postgresql (apt-get install postgresql) or set " + binEnv)
	}
	return dirs, nil
}

// resolveBinDir picks the binaries for a cluster; an existing cluster needs the major
// version that created it, which need not be the newest installed.
func resolveBinDir(ctx context.Context, explicit, dataVersion string) (string, error) {
	dirs := []string{explicit}
	if explicit != "" {
		if err := checkBinDir(explicit); err != nil {
			return "", fmt.Errorf("Options.BinDir: %w", err)
		}
	} else {
		var err error
		if dirs, err = binDirs(); err != nil {
			return "", err
		}
	}
	if dataVersion == "" {
		return dirs[0], nil
	}
	var seen []string
	for _, d := range dirs {
		v, err := serverVersion(ctx, d)
		if err != nil {
			return "", err
		}
		if v == dataVersion {
			return d, nil
		}
		seen = append(seen, fmt.Sprintf("%s in %s", v, d))
	}
	return "", fmt.Errorf("the cluster was created by PostgreSQL %s but only PostgreSQL %s is available: install postgresql-%s (apt-get install postgresql-%s) or upgrade the cluster with pg_upgrade",
		dataVersion, strings.Join(seen, ", "), dataVersion, dataVersion)
}

func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s has no executable %s: install postgresql (apt-get install postgresql) or point to the directory that has initdb, pg_ctl and postgres", dir, name)
		}
	}
	return nil
}

// serverVersion returns the major version in the form PG_VERSION files use ("15", "9.6").
func serverVersion(ctx context.Context, binDir string) (string, error) {
	bin := filepath.Join(binDir, "postgres")
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", bin, err)
	}
	// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
	f := strings.Fields(string(out))
	i := slices.Index(f, "(PostgreSQL)")
	if i < 0 || i+1 >= len(f) {
		return "", fmt.Errorf("%s --version printed %q, which is not a PostgreSQL version", bin, out)
	}
	return majorVersion(f[i+1]), nil
}

func majorVersion(v string) string {
	k := versionKey(v)
	switch {
	case len(k) == 0:
		return v
	case k[0] >= 10 || len(k) == 1:
		return strconv.Itoa(k[0])
	default:
		return fmt.Sprintf("%d.%d", k[0], k[1])
	}
}

// versionKey extracts the numbers of a version string ("pgsql-15" → [15], "9.6.24" → [9 6 24]).
func versionKey(s string) []int {
	var key []int
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		n, err := strconv.Atoi(part)
		if err != nil {
			break
		}
		key = append(key, n)
	}
	return key
}
