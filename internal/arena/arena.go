// Package arena keeps many small, long-lived strings in a few large blocks.
//
// Why: the garbage collector. The directory snapshot keeps a few strings per
// user (username, Trino name, the user's packed record) for 100,000 users.
// As separate allocations they are 300,000 heap objects that every
// collection visits one by one, at random addresses, while decisions wait
// for the cores it takes. Copied into blocks of a megabyte they are a few
// dozen objects, and the pointers to them land on the same few spans.
//
// The price: a block lives as long as any string in it, so strings dropped
// later (a user deleted or rewritten by an incremental refresh) keep their
// bytes until the next full reload builds new blocks. Use an arena for data
// built once and then mostly kept, not for churn.
package arena

import "unsafe"

// BlockSize is the size of each block. Strings larger than a sixteenth of
// it get their own allocation, so that a block is never mostly waste.
const BlockSize = 1 << 20

// Strings hands out strings whose bytes live in shared blocks. Bytes once
// handed out are never written again: a block is only appended to, beyond
// the bytes of every string already made from it. The zero value is ready
// to use; a Strings is not safe for concurrent use.
type Strings struct {
	block []byte
}

// String returns a string equal to s whose bytes are in the arena.
func (a *Strings) String(s string) string {
	return a.add(len(s), func(b []byte) []byte { return append(b, s...) })
}

// Bytes returns b's bytes as a string in the arena.
func (a *Strings) Bytes(b []byte) string {
	return a.add(len(b), func(dst []byte) []byte { return append(dst, b...) })
}

func (a *Strings) add(n int, put func([]byte) []byte) string {
	switch {
	case n == 0:
		return ""
	case n > BlockSize/16:
		b := put(make([]byte, 0, n)) // its own block, never written again
		return unsafe.String(unsafe.SliceData(b), len(b))
	case cap(a.block)-len(a.block) < n:
		a.block = make([]byte, 0, BlockSize)
	}
	start := len(a.block)
	a.block = put(a.block)
	return unsafe.String(&a.block[start], n)
}
