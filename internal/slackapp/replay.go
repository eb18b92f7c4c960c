package slackapp

import (
	"container/heap"
	"sync"
	"time"
)

// replayCache remembers the signed requests seen within the signature
// window, so that the same request sent again is refused: a signature
// alone proves who made a request, not that it is the first time it
// arrives. Entries leave when their timestamp falls out of the window,
// after which the timestamp check refuses them anyway. The cache is
// bounded: when full of live entries it refuses new requests rather than
// forget one that could still be replayed.
type replayCache struct {
	window time.Duration
	max    int

	mu       sync.Mutex
	seen     map[string]struct{}
	expiring expiryHeap
}

func newReplayCache(window time.Duration, max int) *replayCache {
	return &replayCache{window: window, max: max, seen: map[string]struct{}{}}
}

// Outcomes of replayCache.add.
const (
	replayFresh = iota
	replaySeen
	replayFull
)

// add records the request with the given key and signature timestamp,
// reporting whether it is fresh, seen before, or the cache is full.
func (c *replayCache) add(key string, stamp, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.expiring) > 0 && !c.expiring[0].at.After(now) {
		delete(c.seen, heap.Pop(&c.expiring).(expiry).key)
	}
	if _, ok := c.seen[key]; ok {
		return replaySeen
	}
	if len(c.seen) >= c.max {
		return replayFull
	}
	c.seen[key] = struct{}{}
	heap.Push(&c.expiring, expiry{key: key, at: stamp.Add(c.window)})
	return replayFresh
}

type expiry struct {
	key string
	at  time.Time
}

// expiryHeap orders entries by when they leave the window.
type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
