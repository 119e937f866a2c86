package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*options) bool
	}{
		{"defaults spawn a server", nil, "", func(o *options) bool {
			return o.spawn && o.users == 1500 && o.duration == 10*time.Minute && o.expertsShare == 0.2 && o.rate == 2 && o.out == "bench/out" && o.spread
		}},
		{"a running server", []string{"--server", "http://127.0.0.1:8443", "--users", "150", "--duration", "45s"}, "", func(o *options) bool {
			return !o.spawn && o.users == 150 && o.duration == 45*time.Second
		}},
		{"both modes", []string{"--server", "http://127.0.0.1:8443", "--spawn"}, "exclude each other", nil},
		{"not a URL", []string{"--server", "127.0.0.1:8443"}, "base URL", nil},
		{"one user", []string{"--users", "1"}, "at least 2", nil},
		{"share out of range", []string{"--experts-share", "1.5"}, "between 0 and 1", nil},
		{"no rate", []string{"--rate", "0"}, "must be positive", nil},
		{"too short", []string{"--duration", "1s"}, "at least 5s", nil},
		{"stray argument", []string{"now"}, "unexpected arguments", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(o) {
				t.Fatalf("parse(%q) = %+v, %v", tt.args, o, err)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"--users", "150", "--note", "shared machine"})
	if want := `expertiza-loadgen --users 150 --note "shared machine"`; got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}
