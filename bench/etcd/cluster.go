package main

// An in-process etcd raft cluster driven by one goroutine: N RawNodes
// (go.etcd.io/etcd/raft, 3.4), messages delivered in memory, every node over
// a MemoryStorage and, for the WAL storages, etcd's WAL in front of it as
// etcd's server does (the WAL is the durable log, MemoryStorage the raft
// Storage the core reads back from).
//
// The loop is the one of raftlog's bench/raft_cluster.h: waves in which
// every node first steps the messages addressed to it, then every node with
// a Ready handles one, in the Ready contract's order: persist (WAL Save, with
// its fdatasync when the Ready must sync, then MemoryStorage Append), send
// the messages, apply the committed entries, Advance. In windowed mode the
// leader (node 1) tops its proposals up to the window before every wave.
//
// Everything runs on one goroutine (the WAL's segment preallocator runs in
// its own, as in etcd), so the nodes' fdatasyncs of a wave happen one after
// another: the 3-node figures are what one disk does for the whole group.

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/pkg/fileutil"
	"go.etcd.io/etcd/raft"
	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

// The storages under a node.
const (
	storageMemory    = "memory"     // MemoryStorage alone
	storageWALSync   = "wal_sync"   // etcd's WAL, fdatasync per Ready that must sync
	storageWALNoSync = "wal_nosync" // etcd's WAL with SetUnsafeNoFsync
)

// etcd's default --max-wals: WAL files beyond the newest five are removed
// once a snapshot has released them.
const maxWALFiles = 5

type clusterOptions struct {
	storage      string
	nodes        int
	entryBytes   int
	window       int
	dir          string // the WAL storages: node k logs to <dir>/node<k>
	compactEvery uint64 // a node snapshots and compacts after this many applied entries
	keepEntries  uint64 // entries kept below the snapshot index (etcd's SnapshotCatchUpEntries)
	poolSize     int    // prepared payload buffers
}

type node struct {
	id      uint64
	rn      *raft.RawNode
	ms      *raft.MemoryStorage
	w       *wal.WAL // nil for storageMemory
	walDir  string
	inbox   []raftpb.Message
	spare   []raftpb.Message // the previous inbox's array, reused
	applied uint64           // index of the last entry applied
	// Data entries applied: the next one must carry pool tag
	// dataApplied % poolSize (every node applies the same sequence).
	dataApplied uint64
	snapIndex   uint64 // index of the last snapshot taken (CreateSnapshot)
	confState   raftpb.ConfState
}

// Counters of a run; run() resets them after the warm-up.
type counters struct {
	committed   uint64  // data entries the leader saw committed
	latenciesNs []int64 // Propose -> leader sees the entry committed, per entry
	readies     uint64
	compactions uint64 // node snapshots+compactions
}

type cluster struct {
	opt   clusterOptions
	nodes []*node
	pool  [][]byte

	proposed     uint64      // data entries proposed on the leader
	acked        uint64      // data entries the leader saw committed (proposed - acked are in flight)
	proposeTimes []time.Time // proposeTimes[seq % window]: Propose() time of seq
	c            counters
}

// quietLogger drops the raft core's informational messages (elections,
// leadership), keeping warnings and errors on stderr.
type quietLogger struct{ raft.DefaultLogger }

func (quietLogger) Info(...interface{})          {}
func (quietLogger) Infof(string, ...interface{}) {}

// newPayloadPool makes the prepared proposal buffers: buffer k starts with
// k as a little-endian uint64 (the tag checked on apply), then
// pseudo-random bytes from a fixed seed (xorshift64).
func newPayloadPool(n, size int) [][]byte {
	pool := make([][]byte, n)
	x := uint64(20240603)
	for k := range pool {
		b := make([]byte, size)
		binary.LittleEndian.PutUint64(b, uint64(k))
		for i := 8; i < size; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[i] = byte(x)
		}
		pool[k] = b
	}
	return pool
}

// startCluster opens every node's storage with the initial membership
// {1..nodes} in a snapshot at index 1 (as bench/raft_cluster.h does), elects
// node 1 and runs until the cluster is quiet.
func startCluster(opt clusterOptions) (*cluster, error) {
	if opt.nodes < 1 || opt.entryBytes < 16 || opt.window < 1 || opt.poolSize < 1 {
		return nil, fmt.Errorf("cluster: need nodes >= 1, entry_bytes >= 16, window >= 1, pool >= 1")
	}
	switch opt.storage {
	case storageMemory, storageWALSync, storageWALNoSync:
	default:
		return nil, fmt.Errorf("cluster: unknown storage %q (memory, wal_sync, wal_nosync)", opt.storage)
	}
	c := &cluster{
		opt:          opt,
		pool:         newPayloadPool(opt.poolSize, opt.entryBytes),
		proposeTimes: make([]time.Time, opt.window),
	}
	voters := make([]uint64, opt.nodes)
	for k := range voters {
		voters[k] = uint64(k + 1)
	}
	initial := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
		Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters},
	}}
	logger := &quietLogger{raft.DefaultLogger{Logger: newStderrLog()}}
	for k := 0; k < opt.nodes; k++ {
		n := &node{id: uint64(k + 1), ms: raft.NewMemoryStorage(), applied: 1, snapIndex: 1,
			confState: initial.Metadata.ConfState}
		if err := n.ms.ApplySnapshot(initial); err != nil {
			return nil, err
		}
		if opt.storage != storageMemory {
			n.walDir = filepath.Join(opt.dir, fmt.Sprintf("node%d", n.id))
			w, err := wal.Create(zap.NewNop(), n.walDir, nil)
			if err != nil {
				return nil, fmt.Errorf("wal.Create %s: %v", n.walDir, err)
			}
			if opt.storage == storageWALNoSync {
				w.SetUnsafeNoFsync()
			}
			n.w = w
			if err := w.SaveSnapshot(walpb.Snapshot{Index: 1, Term: 1}); err != nil {
				return nil, fmt.Errorf("wal.SaveSnapshot %s: %v", n.walDir, err)
			}
		}
		rn, err := raft.NewRawNode(&raft.Config{
			ID:              n.id,
			ElectionTick:    10,
			HeartbeatTick:   1,
			Storage:         n.ms,
			Applied:         1,
			MaxSizePerMsg:   1 << 20,
			MaxInflightMsgs: 256,
			Logger:          logger,
		})
		if err != nil {
			return nil, err
		}
		n.rn = rn
		c.nodes = append(c.nodes, n)
	}
	if err := c.nodes[0].rn.Campaign(); err != nil {
		return nil, err
	}
	for {
		busy, err := c.wave()
		if err != nil {
			return nil, err
		}
		if !busy {
			break
		}
	}
	if st := c.nodes[0].rn.BasicStatus(); st.RaftState != raft.StateLeader {
		return nil, fmt.Errorf("cluster: node 1 did not become leader (%v)", st.RaftState)
	}
	return c, nil
}

// close closes the WALs (the caller removes the directory).
func (c *cluster) close() {
	for _, n := range c.nodes {
		if n.w != nil {
			n.w.Close()
		}
	}
}

// step tops the leader's proposals up to the window, then runs one wave.
// Errors: a dropped proposal, the storages', a failed apply check.
func (c *cluster) step() error {
	leader := c.nodes[0]
	for c.proposed-c.acked < uint64(c.opt.window) {
		seq := c.proposed
		c.proposeTimes[seq%uint64(c.opt.window)] = time.Now()
		if err := leader.rn.Propose(c.pool[seq%uint64(len(c.pool))]); err != nil {
			return fmt.Errorf("cluster: proposal %d dropped: %v", seq, err)
		}
		c.proposed++
	}
	_, err := c.wave()
	return err
}

// wave: every node steps its inbox, then every node with a Ready handles
// one. Reports whether any node had something to do.
func (c *cluster) wave() (bool, error) {
	busy := false
	for _, n := range c.nodes {
		if len(n.inbox) == 0 {
			continue
		}
		busy = true
		msgs := n.inbox
		n.inbox = n.spare[:0]
		for i := range msgs {
			// Errors are stale or unknown messages, dropped as a transport would.
			_ = n.rn.Step(msgs[i])
			msgs[i] = raftpb.Message{} // drop references to entry data
		}
		n.spare = msgs
	}
	for _, n := range c.nodes {
		if !n.rn.HasReady() {
			continue
		}
		busy = true
		if err := c.handleReady(n); err != nil {
			return busy, err
		}
	}
	return busy, nil
}

// handleReady persists, sends, applies and advances one Ready of n.
func (c *cluster) handleReady(n *node) error {
	rd := n.rn.Ready()
	c.c.readies++
	if err := c.persist(n, &rd); err != nil {
		return err
	}
	for _, m := range rd.Messages {
		if m.To >= 1 && m.To <= uint64(len(c.nodes)) {
			to := c.nodes[m.To-1]
			to.inbox = append(to.inbox, m)
		}
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		n.applied = rd.Snapshot.Metadata.Index
		n.confState = rd.Snapshot.Metadata.ConfState
	}
	now := time.Now() // the entries are applied now
	isLeader := n == c.nodes[0]
	for i := range rd.CommittedEntries {
		e := &rd.CommittedEntries[i]
		n.applied = e.Index
		switch e.Type {
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := cc.Unmarshal(e.Data); err != nil {
				return err
			}
			n.confState = *n.rn.ApplyConfChange(cc)
			continue
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := cc.Unmarshal(e.Data); err != nil {
				return err
			}
			n.confState = *n.rn.ApplyConfChange(cc)
			continue
		}
		if len(e.Data) == 0 {
			continue // a new leader's empty entry
		}
		if err := c.check(n, e); err != nil {
			return err
		}
		if isLeader {
			seq := c.acked
			if seq >= c.proposed {
				return fmt.Errorf("cluster: leader committed entry %d of %d proposed", seq, c.proposed)
			}
			c.c.latenciesNs = append(c.c.latenciesNs, int64(now.Sub(c.proposeTimes[seq%uint64(c.opt.window)])))
			c.acked++
			c.c.committed++
		}
	}
	n.rn.Advance(rd)
	if c.opt.compactEvery > 0 && n.applied-n.snapIndex >= c.opt.compactEvery {
		return c.compact(n)
	}
	return nil
}

// persist makes rd durable (for the WAL storages) before anything else
// happens to it: WAL Save (it fdatasyncs when raft.MustSync says so, unless
// the WAL does not sync), then the snapshot, then MemoryStorage, the order
// of etcd's server.
func (c *cluster) persist(n *node, rd *raft.Ready) error {
	if n.w != nil {
		if err := n.w.Save(rd.HardState, rd.Entries); err != nil {
			return fmt.Errorf("wal.Save %s: %v", n.walDir, err)
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			ws := walpb.Snapshot{Index: rd.Snapshot.Metadata.Index, Term: rd.Snapshot.Metadata.Term}
			if err := n.w.SaveSnapshot(ws); err != nil {
				return fmt.Errorf("wal.SaveSnapshot %s: %v", n.walDir, err)
			}
		}
	} else if !raft.IsEmptyHardState(rd.HardState) {
		if err := n.ms.SetHardState(rd.HardState); err != nil {
			return err
		}
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := n.ms.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	return n.ms.Append(rd.Entries)
}

// check verifies an applied data entry: its size, and that it is the next
// buffer of the pool in proposal order.
func (c *cluster) check(n *node, e *raftpb.Entry) error {
	want := n.dataApplied % uint64(len(c.pool))
	if len(e.Data) != c.opt.entryBytes || binary.LittleEndian.Uint64(e.Data) != want {
		got := uint64(0)
		if len(e.Data) >= 8 {
			got = binary.LittleEndian.Uint64(e.Data)
		}
		return fmt.Errorf("cluster: node %d applied entry %d with %d bytes, tag %d; want %d bytes, tag %d",
			n.id, e.Index, len(e.Data), got, c.opt.entryBytes, want)
	}
	n.dataApplied++
	return nil
}

// compact takes a snapshot at n's applied index and compacts its
// MemoryStorage keeping keepEntries below it, as etcd's server does
// (CreateSnapshot, then Compact(snapshot index - SnapshotCatchUpEntries));
// with a WAL, records the snapshot, releases the WAL files before it and
// removes all but the newest maxWALFiles. The state machine has no state,
// so the snapshot carries no data and no snapshot file is written.
func (c *cluster) compact(n *node) error {
	snap, err := n.ms.CreateSnapshot(n.applied, &n.confState, nil)
	if err != nil {
		return fmt.Errorf("CreateSnapshot node %d at %d: %v", n.id, n.applied, err)
	}
	n.snapIndex = snap.Metadata.Index
	if n.w != nil {
		ws := walpb.Snapshot{Index: snap.Metadata.Index, Term: snap.Metadata.Term}
		if err := n.w.SaveSnapshot(ws); err != nil {
			return fmt.Errorf("wal.SaveSnapshot %s: %v", n.walDir, err)
		}
		if err := n.w.ReleaseLockTo(snap.Metadata.Index); err != nil {
			return fmt.Errorf("wal.ReleaseLockTo %s: %v", n.walDir, err)
		}
		if err := purgeWALFiles(n.walDir); err != nil {
			return err
		}
	}
	if snap.Metadata.Index > c.opt.keepEntries {
		if err := n.ms.Compact(snap.Metadata.Index - c.opt.keepEntries); err != nil && err != raft.ErrCompacted {
			return fmt.Errorf("Compact node %d: %v", n.id, err)
		}
	}
	c.c.compactions++
	return nil
}

// purgeWALFiles is one pass of etcd's WAL purge loop (pkg/fileutil
// PurgeFile, which etcd runs on a timer in its own goroutine): removes the
// oldest .wal files while more than maxWALFiles remain and the oldest is not
// locked by the WAL.
func purgeWALFiles(dir string) error {
	names, err := fileutil.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("purge %s: %v", dir, err)
	}
	var wals []string
	for _, name := range names {
		if strings.HasSuffix(name, ".wal") {
			wals = append(wals, name)
		}
	}
	sort.Strings(wals)
	for len(wals) > maxWALFiles {
		path := filepath.Join(dir, wals[0])
		l, err := fileutil.TryLockFile(path, os.O_WRONLY, fileutil.PrivateFileMode)
		if err != nil {
			break // still held by the WAL
		}
		if err := os.Remove(path); err != nil {
			l.Close()
			return fmt.Errorf("purge %s: %v", path, err)
		}
		if err := l.Close(); err != nil {
			return fmt.Errorf("purge %s: %v", path, err)
		}
		wals = wals[1:]
	}
	return nil
}
