package client

// The outbox keeps commands made offline (DESIGN.md §5) in one bbolt file
// until the server has answered them. bbolt was chosen because it is one
// file with no server and no cgo, every Update is a transaction that is
// fsynced before Commit returns (so a queued command survives a crash or a
// power cut), a bucket's sequence gives IDs that stay monotonic across
// deletions and restarts, keys iterate in byte order (big-endian IDs = queue
// order), and the file is locked so two app instances cannot both send it.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/expertiza/expertiza/sync/wire"
)

var (
	bucketPending = []byte("pending") // id → Command, in queue order
	bucketFailed  = []byte("failed")  // id → failedRecord, refused commands the user has not dismissed
)

// Command is one queued command: an HTTP method, path and JSON body with the
// idempotency key chosen when it was queued (reused on every retry, so a
// command the server applied but whose answer was lost applies once).
type Command struct {
	ID        uint64          `json:"id"`
	Key       string          `json:"key"`
	Method    string          `json:"method"`
	Path      string          `json:"path"` // under wire.APIPrefix, e.g. /applications/7/messages
	Body      json.RawMessage `json:"body,omitempty"`
	Kind      string          `json:"kind,omitempty"` // for the UI: "message", "transition"...
	AppID     int64           `json:"app_id,omitempty"`
	QueuedAt  time.Time       `json:"queued_at"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error,omitempty"`
}

// Result is the outcome of one command sent by Flush: Response is the
// server's answer on success, Err the refusal otherwise.
type Result struct {
	Command  Command
	Response json.RawMessage
	Err      error
}

// Failed reports whether the server refused the command.
func (r Result) Failed() bool { return r.Err != nil }

// failedRecord is how a refused command is kept until the user dismisses it.
type failedRecord struct {
	Command Command     `json:"command"`
	Error   *wire.Error `json:"error"`
}

// Outbox is a durable, ordered queue of commands waiting for the server.
// It is safe for concurrent use; only one Flush runs at a time.
type Outbox struct {
	db      *bolt.DB
	flushMu sync.Mutex
}

// OpenOutbox opens (creating if needed) the outbox file at path. It fails
// after a second if another process holds the file.
func OpenOutbox(path string) (*Outbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketFailed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	return &Outbox{db: db}, nil
}

// Close closes the file; queued commands stay in it.
func (o *Outbox) Close() error { return o.db.Close() }

func idKey(id uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, id)
	return k
}

// Enqueue queues c at the end and returns it as stored: a new ID (always
// assigned, monotonic for the life of the file), a new idempotency key if
// c.Key is empty (a given key is kept, which is how a retry of the same
// logical command is queued), QueuedAt if zero, and a compacted body. The
// command is on disk when Enqueue returns.
func (o *Outbox) Enqueue(ctx context.Context, c Command) (Command, error) {
	if err := ctx.Err(); err != nil {
		return Command{}, err
	}
	c.Method = strings.ToUpper(c.Method)
	switch {
	case c.Method == "" || strings.ContainsAny(c.Method, " \t\r\n"):
		return Command{}, fmt.Errorf("outbox: bad method %q", c.Method)
	case !strings.HasPrefix(c.Path, "/"):
		return Command{}, fmt.Errorf("outbox: path %q must start with /", c.Path)
	case len(c.Key) > 128:
		return Command{}, fmt.Errorf("outbox: idempotency key over 128 characters")
	}
	if len(c.Body) > 0 {
		// The server fingerprints the body under the key; Call sends it
		// compacted, so store exactly what will be sent.
		var buf bytes.Buffer
		if err := json.Compact(&buf, c.Body); err != nil {
			return Command{}, fmt.Errorf("outbox: body is not JSON: %w", err)
		}
		c.Body = buf.Bytes()
	}
	if c.Key == "" {
		c.Key = NewIdempotencyKey()
	}
	if c.QueuedAt.IsZero() {
		c.QueuedAt = time.Now().UTC()
	}
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		c.ID = id
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put(idKey(id), v)
	})
	if err != nil {
		return Command{}, fmt.Errorf("outbox: enqueue: %w", err)
	}
	return c, nil
}

// Pending returns the queued commands in the order they will be sent.
func (o *Outbox) Pending() ([]Command, error) {
	var out []Command
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(_, v []byte) error {
			var c Command
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: read: %w", err)
	}
	return out, nil
}

// Len is the number of queued commands (0 if the file cannot be read).
func (o *Outbox) Len() int {
	n := 0
	_ = o.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPending).Stats().KeyN
		return nil
	})
	return n
}

// Discard removes a queued command without sending it (the user gave up on
// it); it reports whether it was there.
func (o *Outbox) Discard(id uint64) (bool, error) {
	found := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		found = b.Get(idKey(id)) != nil
		return b.Delete(idKey(id))
	})
	return found, err
}

// Failures returns the commands the server refused, oldest first, until the
// user dismisses them: a refusal survives a crash between Flush and the UI.
func (o *Outbox) Failures() ([]Result, error) {
	var out []Result
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFailed).ForEach(func(_, v []byte) error {
			var f failedRecord
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, Result{Command: f.Command, Err: f.Error})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: read failures: %w", err)
	}
	return out, nil
}

// Dismiss forgets a refused command once the user has seen it.
func (o *Outbox) Dismiss(id uint64) error {
	return o.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketFailed).Delete(idKey(id)) })
}

// first returns the head of the queue.
func (o *Outbox) first() (Command, bool, error) {
	var c Command
	found := false
	err := o.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketPending).Cursor().First()
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &c)
	})
	return c, found, err
}

// retryable reports whether a refusal says "not now" rather than "never":
// the command stays first in the queue and the flush stops. An expired
// session (sign in again), rate limiting and the server's own faults are
// such; errors that are not protocol errors at all (a proxy's HTML page,
// an unreadable answer) are treated the same, since retrying under the same
// key is always safe and dropping is not.
func retryable(err error) bool {
	we, ok := wire.AsError(err)
	if !ok {
		return true
	}
	switch we.Code {
	case wire.CodeUnauthenticated, wire.CodeEnrolmentRequired, wire.CodeRateLimited, wire.CodeUnavailable, wire.CodeInternal:
		return true
	}
	return false
}

// Flush sends the queued commands in order through cl, each with its own
// idempotency key, and returns how many the server accepted.
//
//   - Accepted (or replayed by the server because it already applied the
//     key): removed from the queue and reported to onResult with Response.
//   - Refused with a *wire.Error (conflict, forbidden, invalid, illegal
//     transition, deadline...): moved from the queue to Failures in one
//     transaction and reported to onResult with Err; the flush goes on
//     with the next command. Nothing is dropped silently or retried to
//     overwrite someone else's change.
//   - A network error (errors.Is(err, ErrNetwork)), a cancelled ctx, or a
//     retryable refusal (see retryable): the command and everything after it
//     stay queued, its Attempts and LastError are updated, and Flush returns
//     the error. Call it again later.
//
// Flush returns a nil error when the queue is empty. Commands enqueued while
// it runs are sent too. onResult may be nil.
func (o *Outbox) Flush(ctx context.Context, cl *Client, onResult func(Result)) (sent int, err error) {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		c, ok, err := o.first()
		if err != nil {
			return sent, fmt.Errorf("outbox: read: %w", err)
		}
		if !ok {
			return sent, nil
		}
		var body any
		if len(c.Body) > 0 {
			body = c.Body
		}
		var resp json.RawMessage
		callErr := cl.Call(ctx, c.Method, c.Path, body, &resp, c.Key)
		c.Attempts++
		switch {
		case callErr == nil:
			if err := o.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPending).Delete(idKey(c.ID)) }); err != nil {
				// Applied but still queued: the next flush gets a replay.
				return sent, fmt.Errorf("outbox: remove sent command %d: %w", c.ID, err)
			}
			sent++
			c.LastError = ""
			if onResult != nil {
				onResult(Result{Command: c, Response: resp})
			}
		case errors.Is(callErr, ErrNetwork) || ctx.Err() != nil || retryable(callErr):
			c.LastError = callErr.Error()
			if err := o.put(bucketPending, c.ID, c); err != nil {
				return sent, errors.Join(callErr, err)
			}
			return sent, callErr
		default:
			we, _ := wire.AsError(callErr)
			c.LastError = callErr.Error()
			err := o.db.Update(func(tx *bolt.Tx) error {
				v, err := json.Marshal(failedRecord{Command: c, Error: we})
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketFailed).Put(idKey(c.ID), v); err != nil {
					return err
				}
				return tx.Bucket(bucketPending).Delete(idKey(c.ID))
			})
			if err != nil {
				return sent, fmt.Errorf("outbox: record refusal of command %d: %w", c.ID, err)
			}
			if onResult != nil {
				onResult(Result{Command: c, Err: callErr})
			}
		}
	}
}

// put rewrites a stored command if it is still there (Discard may have
// removed it meanwhile).
func (o *Outbox) put(bucket []byte, id uint64, c Command) error {
	return o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get(idKey(id)) == nil {
			return nil
		}
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put(idKey(id), v)
	})
}
