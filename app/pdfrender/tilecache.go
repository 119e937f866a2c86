package pdfrender

import (
	"container/list"
	"image"
	"math"
	"sync"
)

// TileKey names one rendered raster: a tile, or a preview (Preview true,
// TX the preview's max side).
type TileKey struct {
	Doc      DocID
	Page     int
	ZoomBits uint64 // math.Float64bits of the zoom: zoom levels are discrete
	Rotation Rotation
	TX, TY   int
	Preview  bool
}

// NewTileKey is the key of tile (tx, ty) of page at v.
func NewTileKey(doc DocID, page int, v View, tx, ty int) TileKey {
	return TileKey{Doc: doc, Page: page, ZoomBits: math.Float64bits(v.Zoom), Rotation: v.Rotation, TX: tx, TY: ty}
}

// entryOverhead approximates what an entry costs besides its pixels (the
// list element, the map slot, the image header), so a cache of many tiny
// edge tiles still respects its bound.
const entryOverhead = 256

// TileCache is an LRU of rendered rasters bounded by the bytes they hold.
// Adding past the bound evicts the least recently used; a raster larger
// than the whole bound is not kept at all.
type TileCache struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	ll    *list.List // front = most recently used
	items map[TileKey]*list.Element
}

type cacheEntry struct {
	key  TileKey
	img  *image.RGBA
	cost int64
}

// NewTileCache holds at most maxBytes of rasters.
func NewTileCache(maxBytes int64) *TileCache {
	return &TileCache{max: maxBytes, ll: list.New(), items: map[TileKey]*list.Element{}}
}

func cost(img *image.RGBA) int64 { return int64(cap(img.Pix)) + entryOverhead }

// Get returns the raster under k and marks it used.
func (c *TileCache) Get(k TileKey) (*image.RGBA, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry).img, true
}

// Put stores img under k, evicting older rasters to stay within the bound.
func (c *TileCache) Put(k TileKey, img *image.RGBA) {
	n := cost(img)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	if n > c.max {
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, img: img, cost: n})
	c.bytes += n
	for c.bytes > c.max {
		c.remove(c.ll.Back())
	}
}

func (c *TileCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.cost
}

// DropDoc forgets every raster of doc (it was closed).
func (c *TileCache) DropDoc(doc DocID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if k.Doc == doc {
			c.remove(el)
		}
	}
}

// Size is the number of rasters and the bytes they are counted for.
func (c *TileCache) Size() (n int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len(), c.bytes
}

// MaxBytes is the bound.
func (c *TileCache) MaxBytes() int64 { return c.max }
