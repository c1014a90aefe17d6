package jpegdec

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// The two-goroutine sequential decode (Options.Threads > 1). The calling
// goroutine decodes the Huffman codes of a sequential scan, block after
// block, exactly as with one goroutine, but into a chunk instead of d.blk,
// and instead of running each block's inverse DCT it appends the block's
// place to the chunk; full chunks go to a second goroutine, which runs the
// inverse DCTs and writes the pixels, and hands the chunk back. Each block
// is transformed by the same function with the same coefficients into its
// own place, so the planes are those of the one-goroutine decode.
//
// A few chunks circulate (pipeChunks, each up to pipeCoefs coefficients),
// so the memory is fixed, whatever the image size. The calling goroutine
// keeps polling the context and finding restart markers; on any error it
// stops sending and the worker ends once it has drained what it was given.
// A panic in the worker (a decoder bug on some input) does not crash the
// process from a goroutine nobody can recover: the worker returns its
// chunks, the scan stops at the next chunk and the panic is raised again on
// the calling goroutine, with the worker's stack, as it would have been
// raised there with one goroutine (the caller's recover then reports it
// the same way whatever Threads says). Every way out of sequentialScan, a
// panic of the calling goroutine included, waits for the worker.

// minPipeBlocks is the smallest scan, in blocks, given a second
// goroutine: below it the hand-over costs more than it saves. (A variable
// for the tests, which run small images through the pipe.)
var minPipeBlocks = 2048

const (
	pipeChunks = 4
	pipeCoefs  = 1 << 16 // int32s per chunk: 256 KiB
	pipeBlocks = 4096    // blocks per chunk at most
)

// pendingBlock is a decoded block waiting for its inverse DCT: its
// component (index), block position and coefficient shape. Its
// coefficients follow those of the previous block in the chunk (keepN of
// its component).
type pendingBlock struct {
	bx, by int32
	comp   uint8
	shape  uint8
}

// pipeComp is what the worker needs of a component: a copy, so that
// nothing the worker holds points into the decoder (which then stays off
// the heap).
type pipeComp struct {
	pix                  []byte
	stride, bs, scale, n int // n: keepN
}

// pipeChunk is a batch of decoded blocks: n coefficients in coef, which
// has 256 more (the room a block being decoded may write to).
type pipeChunk struct {
	blocks []pendingBlock
	coef   []int32
	n      int
}

var chunkPool = sync.Pool{New: func() any {
	return &pipeChunk{blocks: make([]pendingBlock, 0, pipeBlocks), coef: make([]int32, pipeCoefs+256)}
}}

// idctPipe hands decoded blocks to the worker goroutine.
type idctPipe struct {
	comps   [maxComp]pipeComp
	cur     *pipeChunk
	full    chan *pipeChunk // to the worker
	free    chan *pipeChunk // back from it
	done    chan struct{}   // closed when the worker has ended
	dead    atomic.Bool     // the worker panicked
	crashed any             // what it panicked with
	stack   []byte          // where
}

// newIDCTPipe starts the worker for d's components.
func newIDCTPipe(d *decoder) *idctPipe {
	p := &idctPipe{
		full: make(chan *pipeChunk, pipeChunks),
		free: make(chan *pipeChunk, pipeChunks),
		done: make(chan struct{}),
	}
	for i := range d.ncomp {
		c := &d.comps[i]
		p.comps[i] = pipeComp{pix: c.pix, stride: c.stride, bs: c.bs, scale: c.scale, n: c.keepN}
	}
	p.cur = chunkPool.Get().(*pipeChunk)
	for range pipeChunks - 1 {
		p.free <- chunkPool.Get().(*pipeChunk)
	}
	go p.work()
	return p
}

func (p *idctPipe) work() {
	var ch *pipeChunk // the chunk in hand
	defer close(p.done)
	defer func() {
		if r := recover(); r != nil {
			p.crashed, p.stack = r, debug.Stack()
			p.dead.Store(true)
			p.free <- ch
			for ch := range p.full { // until the caller closes it
				p.free <- ch
			}
		}
	}()
	for ch = range p.full {
		coef := ch.coef
		for _, b := range ch.blocks {
			c := &p.comps[b.comp]
			idctBlock(coef[:c.n], c.pix[(int(b.by)*c.stride+int(b.bx))*c.bs:], c.stride, c.scale, int(b.shape))
			coef = coef[c.n:]
		}
		p.free <- ch
	}
}

// slot is where decodeBlock decodes the next block: its keepN kept
// coefficients go after those of the chunk's previous blocks. decodeBlock
// also stores dropped ones at index 64, beyond the block's own; that lands
// in the room of later blocks, which decodeBlock clears before use, or in
// the chunk's 256 spare values.
func (p *idctPipe) slot() *[256]int32 {
	return (*[256]int32)(p.cur.coef[p.cur.n:])
}

// add queues the block just decoded into slot, block (bx, by) of component
// ci with n coefficients, and sends the chunk on when it is full. It fails
// (errWorkerPanicked) once the worker has panicked.
func (p *idctPipe) add(ci, n, shape, bx, by int) error {
	ch := p.cur
	ch.blocks = append(ch.blocks, pendingBlock{comp: uint8(ci), bx: int32(bx), by: int32(by), shape: uint8(shape)})
	ch.n += n
	if len(ch.blocks) < pipeBlocks && ch.n+64 <= pipeCoefs {
		return nil
	}
	if p.dead.Load() {
		return errWorkerPanicked
	}
	p.full <- ch
	p.cur = <-p.free
	p.cur.blocks, p.cur.n = p.cur.blocks[:0], 0
	return nil
}

// close sends the last chunk when flush is set (the scan is complete),
// stops the worker and waits for it. When the worker panicked, close
// panics with its value and stack once everything is back.
func (p *idctPipe) close(flush bool) error {
	if flush && len(p.cur.blocks) > 0 {
		p.full <- p.cur
		p.cur = <-p.free
	}
	close(p.full)
	<-p.done
	// Every chunk is back: cur and the ones in free.
	chunks := []*pipeChunk{p.cur}
	for range pipeChunks - 1 {
		chunks = append(chunks, <-p.free)
	}
	for _, ch := range chunks {
		ch.blocks, ch.n = ch.blocks[:0], 0
		chunkPool.Put(ch)
	}
	p.comps = [maxComp]pipeComp{} // the planes belong to the caller
	if p.crashed != nil {
		panic(fmt.Sprintf("jpegdec: inverse DCT worker: %v\n%s", p.crashed, p.stack))
	}
	return nil
}

// errWorkerPanicked stops the scan once the worker has panicked; close
// raises the panic.
var errWorkerPanicked = fmt.Errorf("%w: inverse DCT worker panicked", ErrCorrupt)

// scanBlocks returns the number of blocks scan sc codes.
func (d *decoder) scanBlocks(sc *scan) int {
	if sc.ns == 1 {
		c := &d.comps[sc.comp[0]]
		return c.nbx * c.nby
	}
	return d.mcusX * d.mcusY * d.mcuBlocks(sc)
}
