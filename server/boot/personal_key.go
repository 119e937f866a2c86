package boot

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/expertiza/expertiza/server/service"
)

// EnvPDKey holds the personal-data keys when they are not kept in a file:
// base64 of 32 bytes each, comma-separated, the current key first.
const EnvPDKey = "EXPERTIZA_PD_KEY"

// PDKeyFile is where the personal-data key lives by default: under the
// data folder, beside (never inside) the database and the blobs, so
// neither a database dump nor the blob archive of `backup` contains it.
func PDKeyFile(dataDir string) string { return filepath.Join(dataDir, "secrets", "personal-data.key") }

// ParsePDKeys reads keys written one per line (or comma-separated), base64
// of 32 bytes each, the current key first. Blank lines and lines starting
// with # are skipped.
func ParsePDKeys(text []byte) ([][]byte, error) {
	var fields []string
	for _, line := range strings.FieldsFunc(string(text), func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			fields = append(fields, strings.Split(line, ",")...)
		}
	}
	var keys [][]byte
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("personal-data key %d: not base64: %w", len(keys)+1, err)
		}
		if len(k) != service.PDKeyLen {
			return nil, fmt.Errorf("personal-data key %d: %d bytes, want %d (head -c 32 /dev/urandom | base64)", len(keys)+1, len(k), service.PDKeyLen)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no personal-data key given")
	}
	return keys, nil
}

// NewPDKey makes a fresh random key.
func NewPDKey() ([]byte, error) {
	k := make([]byte, service.PDKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("make personal-data key: %w", err)
	}
	return k, nil
}

// FormatPDKeys writes keys as the key file holds them.
func FormatPDKeys(keys [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# Expertiza personal-data keys (AES-256), the current one first. Keep outside every backup of the database.\n")
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// WritePDKeyFile replaces the key file atomically, readable by the owner
// only.
func WritePDKeyFile(path string, keys [][]byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("personal-data key folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".personal-data-*.key")
	if err != nil {
		return fmt.Errorf("write personal-data key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write personal-data key: %w", err)
	}
	if _, err := tmp.Write(FormatPDKeys(keys)); err != nil {
		tmp.Close()
		return fmt.Errorf("write personal-data key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write personal-data key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write personal-data key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write personal-data key: %w", err)
	}
	return nil
}

// LoadPDKeyFile reads the key file at path, creating it with one fresh key
// on first start. A key file others may read is refused: it is the one
// thing that opens the personal data.
func LoadPDKeyFile(path string) (keys [][]byte, created bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := NewPDKey()
		if err != nil {
			return nil, false, err
		}
		if err := WritePDKeyFile(path, [][]byte{k}); err != nil {
			return nil, false, err
		}
		return [][]byte{k}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("personal-data key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("personal-data key file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("personal-data key file: %w", err)
	}
	keys, err = ParsePDKeys(b)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return keys, false, nil
}

// pdOption builds the service's personal-data key ring: cfg.PDKeys when
// given (from EXPERTIZA_PD_KEY), else the key file (cfg.PDKeyFile or the
// default under DataDir), made on first start. Nil without either: the
// server then refuses personal data.
func pdOption(cfg Config) (service.Option, string, error) {
	keys, source := cfg.PDKeys, EnvPDKey
	if len(keys) == 0 {
		path := cfg.PDKeyFile
		if path == "" && cfg.DataDir != "" {
			path = PDKeyFile(cfg.DataDir)
		}
		if path == "" {
			return nil, "", nil
		}
		var err error
		var created bool
		if keys, created, err = LoadPDKeyFile(path); err != nil {
			return nil, "", err
		}
		source = path
		if created {
			source += " (created)"
		}
	}
	ring, err := service.NewPDKeys(keys...)
	if err != nil {
		return nil, "", err
	}
	return service.WithPersonalData(ring), source + ", key " + ring.CurrentID(), nil
}
