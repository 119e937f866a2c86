package blob_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/server/blob"
)

// TestFSLayout pins the on-disk layout that backups and operators see.
func TestFSLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := put(t, s, []byte("hello"))
	var files []string
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{d[:2] + "/" + d[2:4] + "/" + d}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
}

// TestFSSweep: NewFS removes what a crash left in tmp an hour ago or more,
// and leaves younger files, which another process may still be writing.
func TestFSSweep(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ages := map[string]time.Duration{
		"put-fresh":       0,
		"put-59min":       59 * time.Minute,
		"put-61min":       61 * time.Minute,
		"put-yesterday":   24 * time.Hour,
		"stray-directory": 2 * time.Hour,
	}
	for name, age := range ages {
		p := filepath.Join(tmp, name)
		if name == "stray-directory" {
			if err := os.MkdirAll(filepath.Join(p, "inner"), 0o750); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := blob.NewFS(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	if diff := cmp.Diff([]string{"put-59min", "put-fresh"}, left); diff != "" {
		t.Errorf("tmp after NewFS mismatch (-want +got):\n%s", diff)
	}
}

// TestFSWalkSkipsStrays: files that do not fit the layout, however they got
// there, are not blobs.
func TestFSWalkSkipsStrays(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := put(t, s, []byte("real"))
	other := digestOf([]byte("other"))
	strays := []string{
		"README",
		"tmp/" + other,                     // an upload in progress
		"zz/00/" + other,                   // not hex
		d[:2] + "/" + d[2:4] + "/" + other, // in the wrong folder
		d[:2] + "/" + d[2:4] + "/" + d + ".partial", // not a digest
		d[:2] + "/" + d[2:4] + "/" + d[:63],
	}
	for _, p := range strays {
		p = filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(map[string]int64{d: 4}, walk(t, s)); diff != "" {
		t.Errorf("Walk mismatch (-want +got):\n%s", diff)
	}
}

func TestNewFSErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "below")} {
		if _, err := blob.NewFS(dir); err == nil {
			t.Errorf("NewFS(%s) over a file succeeded", dir)
		}
	}
}
