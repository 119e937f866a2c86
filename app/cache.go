package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/expertiza/expertiza/sync/wire"
)

// DefaultFlushInterval is how long changes wait in memory before the
// cache writes them, so a burst of events costs one disk transaction and
// the goroutine that changed the Store never waits for the disk.
const DefaultFlushInterval = 500 * time.Millisecond

// cacheFormat is bumped when the layout changes; an older file is wiped.
const cacheFormat = 2 // 2: remarks and notices

var (
	bucketMeta     = []byte("meta")     // format, server, user, me, seq, notes
	bucketApps     = []byte("apps")     // id → Application
	bucketHistory  = []byte("history")  // app id → []StatusChange
	bucketMessages = []byte("messages") // app id + channel → []Message
	bucketDocs     = []byte("docs")     // app id → []Document
	bucketReview   = []byte("review")   // app id → cachedReview
	allBuckets     = [][]byte{bucketMeta, bucketApps, bucketHistory, bucketMessages, bucketDocs, bucketReview}

	keyFormat = []byte("format")
	keyServer = []byte("server")
	keyUser   = []byte("user")
	keyMe     = []byte("me")
	keySeq    = []byte("seq") // absent: no position to resume from
	keyNotes  = []byte("notes")
)

// Cache is the Store's copy on disk (a bbolt file), one per server and
// user, so the client shows the last known state at once on a cold start
// and resumes the event stream where it stopped.
type Cache struct {
	path   string
	server string
	user   int64
	db     *bolt.DB
}

// CachePath is the file that holds the cache of user on server in dir.
func CachePath(dir, server string, userID int64) string {
	h := sha256.Sum256([]byte(server))
	return filepath.Join(dir, fmt.Sprintf("cache-%s-%d.db", hex.EncodeToString(h[:6]), userID))
}

// OpenCache opens (creating if needed) the cache of user userID on server
// in dir. A file of another format, server or user is started afresh.
func OpenCache(dir, server string, userID int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	c := &Cache{path: CachePath(dir, server, userID), server: server, user: userID}
	db, err := bolt.Open(c.path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", c.path, err)
	}
	c.db = db
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta != nil && (string(meta.Get(keyFormat)) != strconv.Itoa(cacheFormat) ||
			string(meta.Get(keyServer)) != server || string(meta.Get(keyUser)) != strconv.FormatInt(userID, 10)) {
			for _, b := range allBuckets {
				if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
					return err
				}
			}
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta = tx.Bucket(bucketMeta)
		return errors.Join(meta.Put(keyFormat, []byte(strconv.Itoa(cacheFormat))),
			meta.Put(keyServer, []byte(server)),
			meta.Put(keyUser, []byte(strconv.FormatInt(userID, 10))))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare cache %s: %w", c.path, err)
	}
	return c, nil
}

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

// Close closes the file.
func (c *Cache) Close() error { return c.db.Close() }

// Wipe closes and deletes the file (at logout).
func (c *Cache) Wipe() error {
	err := c.db.Close()
	if rerr := os.Remove(c.path); rerr != nil && !os.IsNotExist(rerr) {
		err = errors.Join(err, rerr)
	}
	return err
}

// cached is the state read from or written to the file.
type cached struct {
	me       *wire.User
	seq      int64
	hasSeq   bool
	apps     map[int64]wire.Application
	history  map[int64][]wire.StatusChange
	messages map[chatKey][]wire.Message
	docs     map[int64][]wire.Document
	docsRaw  map[int64][]byte
	review   map[int64]cachedReview
	revRaw   map[int64][]byte
	notes    []wire.Notification
}

// cachedReview is an application's remarks register as cached.
type cachedReview struct {
	Remarks []wire.Remark `json:"remarks"`
	Notices []wire.Notice `json:"notices"`
}

func idKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func chatKeyBytes(k chatKey) []byte { return append(idKey(k.app), k.ch...) }

// load reads everything.
func (c *Cache) load() (*cached, error) {
	out := &cached{apps: map[int64]wire.Application{}, history: map[int64][]wire.StatusChange{},
		messages: map[chatKey][]wire.Message{}, docs: map[int64][]wire.Document{}, docsRaw: map[int64][]byte{},
		review: map[int64]cachedReview{}, revRaw: map[int64][]byte{}}
	err := c.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyMe); v != nil {
			var u wire.User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("me: %w", err)
			}
			out.me = &u
		}
		if v := meta.Get(keySeq); len(v) == 8 {
			out.seq, out.hasSeq = int64(binary.BigEndian.Uint64(v)), true
		}
		if v := meta.Get(keyNotes); v != nil {
			if err := json.Unmarshal(v, &out.notes); err != nil {
				return fmt.Errorf("notifications: %w", err)
			}
		}
		each := func(b []byte, fn func(k, v []byte) error) error {
			return tx.Bucket(b).ForEach(func(k, v []byte) error {
				if len(k) < 8 {
					return fmt.Errorf("%s: bad key %x", b, k)
				}
				if err := fn(k, v); err != nil {
					return fmt.Errorf("%s %x: %w", b, k, err)
				}
				return nil
			})
		}
		id := func(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8])) }
		return errors.Join(
			each(bucketApps, func(k, v []byte) error {
				var a wire.Application
				err := json.Unmarshal(v, &a)
				out.apps[id(k)] = a
				return err
			}),
			each(bucketHistory, func(k, v []byte) error {
				var h []wire.StatusChange
				err := json.Unmarshal(v, &h)
				out.history[id(k)] = h
				return err
			}),
			each(bucketMessages, func(k, v []byte) error {
				var ms []wire.Message
				err := json.Unmarshal(v, &ms)
				out.messages[chatKey{id(k), wire.Channel(k[8:])}] = ms
				return err
			}),
			each(bucketDocs, func(k, v []byte) error {
				var ds []wire.Document
				err := json.Unmarshal(v, &ds)
				out.docs[id(k)] = ds
				out.docsRaw[id(k)] = bytes.Clone(v)
				return err
			}),
			each(bucketReview, func(k, v []byte) error {
				var r cachedReview
				err := json.Unmarshal(v, &r)
				out.review[id(k)] = r
				out.revRaw[id(k)] = bytes.Clone(v)
				return err
			}),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("read cache %s: %w", c.path, err)
	}
	return out, nil
}

// batch is one flush: marshalled values (nil: delete) of what changed.
type batch struct {
	all      bool // rewrite everything: the buckets are emptied first
	me       []byte
	meSet    bool
	seq      []byte // nil: delete (no position)
	seqSet   bool
	notes    []byte
	notesSet bool
	apps     map[int64][]byte
	history  map[int64][]byte
	messages map[chatKey][]byte
	docs     map[int64][]byte
	review   map[int64][]byte
}

func (b *batch) empty() bool {
	return !b.all && !b.meSet && !b.seqSet && !b.notesSet && len(b.apps) == 0 && len(b.history) == 0 &&
		len(b.messages) == 0 && len(b.docs) == 0 && len(b.review) == 0
}

// write applies a batch in one transaction.
func (c *Cache) write(b *batch) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		if b.all {
			for _, name := range [][]byte{bucketApps, bucketHistory, bucketMessages, bucketDocs, bucketReview} {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
		}
		meta := tx.Bucket(bucketMeta)
		put := func(bk *bolt.Bucket, k, v []byte) error {
			if v == nil {
				return bk.Delete(k)
			}
			return bk.Put(k, v)
		}
		var errs []error
		if b.meSet {
			errs = append(errs, put(meta, keyMe, b.me))
		}
		if b.seqSet {
			errs = append(errs, put(meta, keySeq, b.seq))
		}
		if b.notesSet {
			errs = append(errs, put(meta, keyNotes, b.notes))
		}
		for id, v := range b.apps {
			errs = append(errs, put(tx.Bucket(bucketApps), idKey(id), v))
		}
		for id, v := range b.history {
			errs = append(errs, put(tx.Bucket(bucketHistory), idKey(id), v))
		}
		for k, v := range b.messages {
			errs = append(errs, put(tx.Bucket(bucketMessages), chatKeyBytes(k), v))
		}
		for id, v := range b.docs {
			errs = append(errs, put(tx.Bucket(bucketDocs), idKey(id), v))
		}
		for id, v := range b.review {
			errs = append(errs, put(tx.Bucket(bucketReview), idKey(id), v))
		}
		return errors.Join(errs...)
	})
}
