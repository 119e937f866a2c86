package app

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// dirtySet is what changed in the Store since the cache last wrote.
// Documents are compared at flush time instead (their list changes in
// place), which costs little: only opened applications have them.
type dirtySet struct {
	all, me, seq, notes bool
	apps, history       map[int64]struct{}
	chats               map[chatKey]struct{}
}

func (d *dirtySet) app(id int64) {
	if d.apps == nil {
		d.apps = map[int64]struct{}{}
	}
	d.apps[id] = struct{}{}
}

func (d *dirtySet) hist(id int64) {
	if d.history == nil {
		d.history = map[int64]struct{}{}
	}
	d.history[id] = struct{}{}
}

func (d *dirtySet) chat(k chatKey) {
	if d.chats == nil {
		d.chats = map[chatKey]struct{}{}
	}
	d.chats[k] = struct{}{}
}

// cacheLink runs the writer of an attached cache.
type cacheLink struct {
	c        *Cache
	wmu      sync.Mutex // one flush at a time, so batches reach the disk in order
	every    time.Duration
	kick     chan struct{}
	stop     chan bool // true: flush before stopping
	done     chan error
	lastDocs map[int64][]byte // documents as last written
	lastRev  map[int64][]byte // remarks registers as last written
}

// AttachCache loads c into the store, replacing what it holds, and from
// then on writes changes to c in the background, at most every flushEvery
// (0: DefaultFlushInterval) after a change. Call it before the stream
// starts; Seq then tells where to resume.
func (s *Store) AttachCache(c *Cache, flushEvery time.Duration) error {
	if flushEvery <= 0 {
		flushEvery = DefaultFlushInterval
	}
	got, err := c.load()
	if err != nil {
		return err
	}
	if err := s.DetachCache(true); err != nil {
		s.log.Warn("previous cache", "err", err)
	}
	cl := &cacheLink{c: c, every: flushEvery, kick: make(chan struct{}, 1), stop: make(chan bool), done: make(chan error, 1), lastDocs: got.docsRaw, lastRev: got.revRaw}
	s.mu.Lock()
	if got.me != nil {
		s.me = *got.me
	}
	s.apps, s.history, s.messages, s.docs = got.apps, got.history, got.messages, got.docs
	s.appsChanged()
	s.review.init()
	for id, r := range got.review {
		s.review.remarks[id], s.review.notices[id] = r.Remarks, r.Notices
	}
	s.touched = map[int64]uint64{}
	s.notes = got.notes
	s.seq, s.hasSeq, s.resyncing, s.synced = got.seq, got.hasSeq, false, false
	s.dirty = dirtySet{}
	s.cl = cl
	s.mu.Unlock()
	go s.writeLoop(cl)
	s.changed()
	return nil
}

// DetachCache stops writing to the attached cache (after writing what is
// pending when flush is true) and closes it. Nothing happens without one.
func (s *Store) DetachCache(flush bool) error {
	cl := s.detach(flush)
	if cl == nil {
		return nil
	}
	return errors.Join(<-cl.done, cl.c.Close())
}

// WipeCache stops writing to the attached cache and deletes its file.
func (s *Store) WipeCache() error {
	cl := s.detach(false)
	if cl == nil {
		return nil
	}
	return errors.Join(<-cl.done, cl.c.Wipe())
}

func (s *Store) detach(flush bool) *cacheLink {
	s.mu.Lock()
	cl := s.cl
	s.cl = nil
	s.mu.Unlock()
	if cl != nil {
		cl.stop <- flush
	}
	return cl
}

// FlushCache writes pending changes now (tests, and before a risky step).
func (s *Store) FlushCache() error {
	s.mu.RLock()
	cl := s.cl
	s.mu.RUnlock()
	if cl == nil {
		return nil
	}
	return s.flush(cl)
}

// Seq is the last event sequence the state includes; false when none is
// known (the stream then starts live and the lists are reloaded).
func (s *Store) Seq() (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq, s.hasSeq
}

// noteSeq records the position of a stream that went live without replay
// (its welcome carries the current sequence, which no event delivers).
func (s *Store) noteSeq(seq int64) {
	s.mu.Lock()
	if !s.hasSeq || seq > s.seq {
		s.seq, s.hasSeq = seq, true
		s.dirty.seq = true
	}
	s.mu.Unlock()
}

func (s *Store) kickCache() {
	s.mu.RLock()
	cl := s.cl
	s.mu.RUnlock()
	if cl == nil {
		return
	}
	select {
	case cl.kick <- struct{}{}:
	default:
	}
}

// writeLoop batches: the first change starts a timer, and everything
// changed until it fires goes to disk in one transaction.
func (s *Store) writeLoop(cl *cacheLink) {
	var timer <-chan time.Time
	for {
		select {
		case <-cl.kick:
			if timer == nil {
				timer = time.After(cl.every)
			}
		case <-timer:
			timer = nil
			if err := s.flush(cl); err != nil {
				s.log.Warn("cache write failed", "err", err)
			}
		case flush := <-cl.stop:
			var err error
			if flush {
				err = s.flush(cl)
			}
			cl.done <- err
			return
		}
	}
}

// flush writes what changed since the last flush in one transaction.
func (s *Store) flush(cl *cacheLink) error {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	b, docs, rev := s.takeBatch(cl)
	if b.empty() {
		return nil
	}
	if err := cl.c.write(b); err != nil {
		s.mu.Lock()
		s.dirty.all = true // rewrite everything next time
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	cl.lastDocs, cl.lastRev = docs, rev
	s.mu.Unlock()
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // wire types always marshal
	}
	return b
}

// takeBatch marshals what changed and resets the dirty set.
func (s *Store) takeBatch(cl *cacheLink) (*batch, map[int64][]byte, map[int64][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirty
	s.dirty = dirtySet{}
	b := &batch{all: d.all, apps: map[int64][]byte{}, history: map[int64][]byte{}, messages: map[chatKey][]byte{}, docs: map[int64][]byte{}, review: map[int64][]byte{}}
	if d.all {
		d.me, d.seq, d.notes = true, true, true
		for id := range s.apps {
			d.app(id)
		}
		for id := range s.history {
			d.hist(id)
		}
		for k := range s.messages {
			d.chat(k)
		}
	}
	if d.me {
		b.meSet, b.me = true, mustJSON(s.me)
	}
	if d.seq {
		b.seqSet = true
		if s.hasSeq && !s.resyncing {
			b.seq = binary.BigEndian.AppendUint64(nil, uint64(s.seq))
		}
	}
	if d.notes {
		b.notesSet, b.notes = true, mustJSON(s.notes)
	}
	for id := range d.apps {
		if a, ok := s.apps[id]; ok {
			b.apps[id] = mustJSON(a)
		} else {
			b.apps[id] = nil
		}
	}
	for id := range d.history {
		if h, ok := s.history[id]; ok {
			b.history[id] = mustJSON(h)
		} else {
			b.history[id] = nil
		}
	}
	for k := range d.chats {
		if ms, ok := s.messages[k]; ok {
			b.messages[k] = mustJSON(ms)
		} else {
			b.messages[k] = nil
		}
	}
	docs := make(map[int64][]byte, len(s.docs))
	for id, ds := range s.docs {
		raw := mustJSON(ds)
		docs[id] = raw
		if old, ok := cl.lastDocs[id]; d.all || !ok || !bytes.Equal(old, raw) {
			b.docs[id] = raw
		}
	}
	for id := range cl.lastDocs {
		if _, ok := docs[id]; !ok && !d.all {
			b.docs[id] = nil
		}
	}
	// The remarks registers, like the documents, are compared when
	// written: only opened applications have them.
	rev := make(map[int64][]byte, len(s.review.remarks))
	for id, rs := range s.review.remarks {
		raw := mustJSON(cachedReview{Remarks: rs, Notices: s.review.notices[id]})
		rev[id] = raw
		if old, ok := cl.lastRev[id]; d.all || !ok || !bytes.Equal(old, raw) {
			b.review[id] = raw
		}
	}
	for id := range cl.lastRev {
		if _, ok := rev[id]; !ok && !d.all {
			b.review[id] = nil
		}
	}
	return b, docs, rev
}
