// Package fault holds the fault tests of the sync server (issue 7): a
// server process killed with SIGKILL during write bursts, PostgreSQL
// stopped in immediate mode under load, responses cut after COMMIT by
// toxiproxy, uploads killed midway, a desktop client offline for minutes,
// a thousand clients reconnecting at once, a slow consumer, and a full
// disk. Every test checks one condition, "nothing lost": every
// acknowledged operation exists exactly once, byte-identical, with its log
// rows; every unacknowledged one is still queued by its client or applied
// exactly once; every client's event sequence is free of gaps and repeats;
// the audit chain verifies.
//
// The tests run against a PostgreSQL cluster of their own with durability
// on (fsync, synchronous_commit, full_page_writes): the throwaway clusters
// of the other packages turn it off for speed, which would make a crash
// test meaningless. EXPERTIZA_FAULT_SCALE (default 1) multiplies rounds and
// counts, EXPERTIZA_FAULT_CUT (default 20s) is the length of the network
// cut; `make soak` runs the suite at scale.
package fault
