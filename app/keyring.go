package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/sync/wire"
)

// KeyringService names this program's entries in the OS keyring.
const KeyringService = "expertiza"

// Token storage backends OpenKeyring may choose, best first.
const (
	TokensOSKeyring = "os"     // Secret Service, KWallet, macOS Keychain, Windows Credential Manager
	TokensFile      = "file"   // encrypted file in the user's config dir
	TokensMemory    = "memory" // nowhere: the token dies with the process
)

// ErrNoSavedToken is returned by RestoreToken when nothing is remembered
// for the server.
var ErrNoSavedToken = errors.New("no saved session for this server")

// OpenKeyring opens where session tokens are kept: the OS keyring if one
// answers; otherwise (a Linux without a keyring daemon) keyring's
// encrypted file backend in configDir/keyring, whose password is derived
// from deviceID and the machine id so no prompt is needed; if even that
// fails, memory only. The second result names the choice (Tokens*).
//
// The file fallback's password is derived from values readable by the
// same OS user, so it keeps the token from being read off a copied disk
// image of another machine, not from programs of that user.
func OpenKeyring(log *slog.Logger, configDir, deviceID string) (keyring.Keyring, string) {
	kr, err := keyring.Open(keyring.Config{
		ServiceName:              KeyringService,
		AllowedBackends:          []keyring.BackendType{keyring.SecretServiceBackend, keyring.KWalletBackend, keyring.KeychainBackend, keyring.WinCredBackend},
		KWalletAppID:             KeyringService,
		KWalletFolder:            KeyringService,
		LibSecretCollectionName:  "login",
		KeychainTrustApplication: true,
	})
	if err == nil {
		if _, err = kr.Get("probe"); errors.Is(err, keyring.ErrKeyNotFound) || err == nil {
			return kr, TokensOSKeyring
		}
	}
	log.Info("no OS keyring, using an encrypted file", "err", err)
	if configDir != "" {
		kr, err = keyring.Open(keyring.Config{
			ServiceName:      KeyringService,
			AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
			FileDir:          filepath.Join(configDir, "keyring"),
			FilePasswordFunc: keyring.FixedStringPrompt(filePassword(deviceID)),
		})
		if err == nil {
			if _, err = kr.Get("probe"); errors.Is(err, keyring.ErrKeyNotFound) || err == nil {
				return kr, TokensFile
			}
		}
	}
	log.Warn("token kept in memory only", "err", err)
	return keyring.NewArrayKeyring(nil), TokensMemory
}

// filePassword derives the file backend's password: no prompt, different
// on every machine and installation.
func filePassword(deviceID string) string {
	machine, _ := os.ReadFile("/etc/machine-id")
	home, _ := os.UserHomeDir()
	h := sha256.Sum256([]byte("expertiza token file\x00" + deviceID + "\x00" + strings.TrimSpace(string(machine)) + "\x00" + home))
	return hex.EncodeToString(h[:])
}

// savedSession is what the keyring holds for one server.
type savedSession struct {
	Server string    `json:"server"`
	Token  string    `json:"token"`
	User   wire.User `json:"user"`
}

func tokenKey(server string) string { return "session " + server }

// SetKeyring sets where SaveToken and RestoreToken keep the token (nil:
// nowhere, the default).
func (s *Session) SetKeyring(kr keyring.Keyring) {
	s.mu.Lock()
	s.kr = kr
	s.mu.Unlock()
}

// SaveToken remembers the signed-in session's token, so RestoreToken can
// reopen it after a restart without the password. Only a full session is
// remembered (an enrolment session must finish in this run).
func (s *Session) SaveToken() error {
	s.mu.RLock()
	kr, c, u, scope := s.kr, s.c, s.user, s.scope
	s.mu.RUnlock()
	if kr == nil {
		return nil
	}
	if c == nil || scope != wire.ScopeFull {
		return wire.E(wire.CodeUnauthenticated, "", "Войдите в систему", "Sign in first")
	}
	data, err := json.Marshal(savedSession{Server: c.BaseURL(), Token: c.Token(), User: u})
	if err != nil {
		return err
	}
	if err := kr.Set(keyring.Item{Key: tokenKey(c.BaseURL()), Data: data, Label: "Expertiza " + c.BaseURL(),
		Description: "session token"}); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}

// RestoreToken reopens the session remembered for server, without the
// network: the client starts from its cache at once, and the stream (or
// the first request) tells whether the server still knows the session —
// if not, Workspace.Run ends with client.ErrTerminal and the user signs in
// again. ErrNoSavedToken when nothing is remembered.
func (s *Session) RestoreToken(server string) (wire.User, error) {
	server, err := NormalizeServerURL(server)
	if err != nil {
		return wire.User{}, err
	}
	s.mu.RLock()
	kr := s.kr
	s.mu.RUnlock()
	if kr == nil {
		return wire.User{}, ErrNoSavedToken
	}
	it, err := kr.Get(tokenKey(server))
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return wire.User{}, ErrNoSavedToken
	}
	if err != nil {
		return wire.User{}, fmt.Errorf("read token: %w", err)
	}
	var ss savedSession
	if err := json.Unmarshal(it.Data, &ss); err != nil || ss.Token == "" || ss.Server != server {
		_ = kr.Remove(tokenKey(server))
		return wire.User{}, ErrNoSavedToken
	}
	c := s.newClient(server)
	c.SetToken(ss.Token)
	s.mu.Lock()
	s.c, s.user, s.scope = c, ss.User, wire.ScopeFull
	s.mu.Unlock()
	s.log.Info("session restored", "server", server, "user_id", ss.User.ID)
	return ss.User, nil
}

// forgetToken deletes the remembered token of server.
func (s *Session) forgetToken(server string) {
	s.mu.RLock()
	kr := s.kr
	s.mu.RUnlock()
	if kr == nil || server == "" {
		return
	}
	if err := kr.Remove(tokenKey(server)); err != nil && !errors.Is(err, keyring.ErrKeyNotFound) && !os.IsNotExist(err) {
		s.log.Warn("forget token", "err", err)
	}
}
