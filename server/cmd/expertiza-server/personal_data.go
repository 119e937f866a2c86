package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/service"
)

// pdFlags locate the personal-data keys: EXPERTIZA_PD_KEY, else the key
// file (by default under --data).
type pdFlags struct{ keyFile string }

func (f *pdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "pd-key-file", "", "personal-data key file (default DATA/secrets/personal-data.key, made on first start; "+
		boot.EnvPDKey+" overrides it; docs/personal-data.md)")
}

// envKeys reads EXPERTIZA_PD_KEY; nil when unset.
func (f *pdFlags) envKeys() ([][]byte, error) {
	v := strings.TrimSpace(os.Getenv(boot.EnvPDKey))
	if v == "" {
		return nil, nil
	}
	keys, err := boot.ParsePDKeys([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", boot.EnvPDKey, err)
	}
	return keys, nil
}

func (f *pdFlags) path(data string) string {
	if f.keyFile != "" {
		return f.keyFile
	}
	return boot.PDKeyFile(data)
}

// cmdPDKey rotates the personal-data key or re-encrypts under the current
// one:
//
//	pd-key rotate     a new key goes first in the key file, every value is
//	                  re-encrypted under it; old keys stay for a later prune
//	pd-key reencrypt  re-encrypt under the current key (after rotating the
//	                  keys of EXPERTIZA_PD_KEY by hand)
func cmdPDKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "reencrypt") {
		return errors.New("usage: expertiza-server pd-key rotate|reencrypt [--data DIR] [--pd-key-file F]")
	}
	sub := args[0]
	var pf pdFlags
	return withDB(ctx, "pd-key "+sub, args[1:], stderr, pf.register, func(ctx context.Context, env *cliEnv) error {
		envKeys, err := pf.envKeys()
		if err != nil {
			return err
		}
		keys := envKeys
		if sub == "rotate" {
			if envKeys != nil {
				return errors.New("pd-key rotate: the keys come from " + boot.EnvPDKey + ": put a new key first in it yourself, keep the old ones after it, and run pd-key reencrypt")
			}
			path := pf.path(env.data)
			old, _, err := boot.LoadPDKeyFile(path)
			if err != nil {
				return err
			}
			fresh, err := boot.NewPDKey()
			if err != nil {
				return err
			}
			keys = append([][]byte{fresh}, old...)
			if err := boot.WritePDKeyFile(path, keys); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "new personal-data key %x is current in %s\n", service.PDKeyID(fresh), path)
		} else if keys == nil {
			if keys, _, err = boot.LoadPDKeyFile(pf.path(env.data)); err != nil {
				return err
			}
		}
		ring, err := service.NewPDKeys(keys...)
		if err != nil {
			return err
		}
		svc := service.New(env.st, service.DefaultConfig(), env.log, nil, service.WithPersonalData(ring))
		n, err := svc.ReencryptPersonalData(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "personal data of %d users re-encrypted under key %s; older keys may now be removed from the key file\n", n, ring.CurrentID())
		return nil
	})
}
