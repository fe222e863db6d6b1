package main

// Run with scripts/etcd_peer.sh --test (GOPATH mode against Debian's etcd
// sources, as the build).

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/wal"
	"go.etcd.io/etcd/wal/walpb"
	"go.uber.org/zap"
)

// drain runs waves without proposing until the cluster is quiet.
func drain(t *testing.T, c *cluster) {
	t.Helper()
	for {
		busy, err := c.wave()
		if err != nil {
			t.Fatal(err)
		}
		if !busy {
			return
		}
	}
}

// Every proposal is committed, applied and checked on every node, in order,
// with one latency sample each; nodes snapshot and compact as they go, and
// the WAL storages hold the log on disk (read back after closing) while
// old WAL files are purged.
func TestClusterAppliesEveryProposalEverywhere(t *testing.T) {
	defer func(old int64) { wal.SegmentSizeBytes = old }(wal.SegmentSizeBytes)
	wal.SegmentSizeBytes = 16 << 10 // many segments, so that purging has work
	for _, storage := range []string{storageMemory, storageWALNoSync, storageWALSync} {
		for _, nodes := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/%d", storage, nodes), func(t *testing.T) {
				opt := clusterOptions{storage: storage, nodes: nodes, entryBytes: 100, window: 16,
					compactEvery: 500, keepEntries: 50, poolSize: 7}
				if storage != storageMemory {
					opt.dir = t.TempDir()
				}
				c, err := startCluster(opt)
				if err != nil {
					t.Fatal(err)
				}
				for c.acked < 3000 {
					if err := c.step(); err != nil {
						t.Fatal(err)
					}
				}
				drain(t, c)
				if c.acked != c.proposed || c.c.committed != c.proposed {
					t.Fatalf("proposed %d, leader saw %d (counted %d) committed", c.proposed, c.acked, c.c.committed)
				}
				if got := uint64(len(c.c.latenciesNs)); got != c.c.committed {
					t.Fatalf("%d latency samples for %d committed entries", got, c.c.committed)
				}
				for _, n := range c.nodes {
					if n.dataApplied != c.proposed {
						t.Errorf("node %d applied %d of %d proposals", n.id, n.dataApplied, c.proposed)
					}
					first, _ := n.ms.FirstIndex()
					last, _ := n.ms.LastIndex()
					if n.snapIndex+opt.compactEvery <= n.applied || first != n.snapIndex-opt.keepEntries+1 || last != n.applied {
						t.Errorf("node %d: snapshot %d, storage [%d, %d], applied %d", n.id, n.snapIndex, first, last, n.applied)
					}
				}
				if want := uint64(nodes) * 5; c.c.compactions < want {
					t.Errorf("%d compactions, want at least %d", c.c.compactions, want)
				}
				c.close()
				if storage == storageMemory {
					return
				}
				for _, n := range c.nodes {
					checkWAL(t, n)
				}
			})
		}
	}
}

// checkWAL reads n's closed WAL back from its last snapshot: it must hold
// every entry up to the node's last index, and the oldest files (the first
// segment at least), released by the snapshots, must be purged.
func checkWAL(t *testing.T, n *node) {
	t.Helper()
	snap, _ := n.ms.Snapshot()
	last, _ := n.ms.LastIndex()
	w, err := wal.OpenForRead(zap.NewNop(), n.walDir,
		walpb.Snapshot{Index: snap.Metadata.Index, Term: snap.Metadata.Term})
	if err != nil {
		t.Fatalf("node %d: %v", n.id, err)
	}
	defer w.Close()
	_, hs, ents, err := w.ReadAll()
	if err != nil {
		t.Fatalf("node %d: ReadAll: %v", n.id, err)
	}
	if len(ents) == 0 || ents[len(ents)-1].Index != last || hs.Commit != last {
		t.Errorf("node %d: WAL has %d entries after the snapshot, commit %d; storage's last index %d",
			n.id, len(ents), hs.Commit, last)
	}
	names, _ := filepath.Glob(filepath.Join(n.walDir, "*.wal"))
	sort.Strings(names)
	if len(names) == 0 || filepath.Base(names[0]) == "0000000000000000-0000000000000000.wal" {
		t.Errorf("node %d: WAL files %v, the first segment not purged", n.id, names)
	}
}

// An entry of the wrong size or out of proposal order fails the run.
func TestCheckRejectsWrongEntries(t *testing.T) {
	c := &cluster{opt: clusterOptions{entryBytes: 32}, pool: newPayloadPool(4, 32)}
	n := &node{id: 2}
	if err := c.check(n, &raftpb.Entry{Index: 5, Data: c.pool[0]}); err != nil {
		t.Fatalf("first buffer: %v", err)
	}
	if err := c.check(n, &raftpb.Entry{Index: 6, Data: c.pool[2]}); err == nil {
		t.Error("buffer 2 accepted where buffer 1 was due")
	}
	if err := c.check(n, &raftpb.Entry{Index: 6, Data: c.pool[1][:31]}); err == nil {
		t.Error("31-byte entry accepted")
	}
	if err := c.check(n, &raftpb.Entry{Index: 6, Data: c.pool[1]}); err != nil {
		t.Errorf("buffer 1 after the rejected ones: %v", err)
	}
}

func TestQuantileNearestRank(t *testing.T) {
	v := make([]int64, 100)
	for i := range v {
		v[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := quantileNs(v, tc.q); got != tc.want {
			t.Errorf("quantile %v of 1..100 = %d, want %d", tc.q, got, tc.want)
		}
	}
	if got := quantileNs(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing = %d", got)
	}
}
