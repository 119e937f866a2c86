package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRejectsBadMailFlags: wrong e-mail settings stop `serve` with a
// message naming the flag, before any database is opened.
func TestServeRejectsBadMailFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvSMTPPassword, "")
	tests := []struct {
		name string
		args string
		want string
	}{
		{"bad STARTTLS mode", "--smtp-addr smtp.example.ru:587 --smtp-from noreply@example.ru --smtp-starttls always", "--smtp-starttls"},
		{"no From", "--smtp-addr smtp.example.ru:587", "sender address"},
		{"user without password", "--smtp-addr smtp.example.ru:587 --smtp-from noreply@example.ru --smtp-user robot", "password"},
		{"password in clear", "--smtp-addr smtp.example.ru:25 --smtp-from noreply@example.ru --smtp-user robot --smtp-password-file " + pw + " --smtp-starttls none", "in clear"},
		{"digest hour", "--smtp-addr smtp.example.ru:587 --smtp-from noreply@example.ru --mail-digest-hour 24", "--mail-digest-hour"},
		{"no port", "--smtp-addr smtp.example.ru --smtp-from noreply@example.ru", "host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data", filepath.Join(t.TempDir(), "never-created")}, strings.Fields(tt.args)...)
			err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			}
			if _, statErr := os.Stat(args[2]); statErr == nil {
				t.Fatal("the data folder was created before the settings were checked")
			}
		})
	}
}
