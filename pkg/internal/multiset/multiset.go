// Package multiset tells whether two multisets of records are equal
// without holding either: each record is hashed with a keyed BLAKE2b-256
// and the hashes are added lane by lane, modulo 2^64 (an incremental
// "AdHash", Bellare and Micciancio, 1997). Equal multisets give equal
// sums whatever the order the records come in. The key is random, made
// for one comparison, and never leaves the process, so whoever chose the
// records cannot aim for two different multisets with equal sums: that
// happens by chance with a probability of about 2^-256. (Sums taken lane
// by lane are weak against a record repeated very many times, 2^64 times
// adding nothing; a Sum counts its records too, and the comparisons
// dossier makes are of a list with a set, whose records are each there
// once, so equal counts leave no room for such repeats.)
package multiset

import (
	"crypto/rand"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/blake2b"
)

// A Hasher adds records to Sums under one random key. Sums are compared
// only if made by the same Hasher.
type Hasher struct {
	h   hash.Hash
	buf []byte
	sum [32]byte
}

// NewHasher returns a Hasher with a new random key.
func NewHasher() *Hasher {
	var key [32]byte
	rand.Read(key[:]) // never fails
	h, err := blake2b.New256(key[:])
	if err != nil {
		panic(err) // a 32-byte key is valid
	}
	return &Hasher{h: h}
}

// A Sum is a multiset's sum, and how many records it holds.
type Sum struct {
	lanes [4]uint64
	n     int64
}

// Len returns the number of records added.
func (s *Sum) Len() int64 { return s.n }

// Add adds one record, made of parts, to s. Parts are length-prefixed,
// so ("ab", "c") and ("a", "bc") are different records.
func (x *Hasher) Add(s *Sum, parts ...[]byte) {
	b := x.buf[:0]
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	x.buf = b
	x.h.Reset()
	x.h.Write(b)
	x.h.Sum(x.sum[:0])
	for i := range s.lanes {
		s.lanes[i] += binary.LittleEndian.Uint64(x.sum[8*i:])
	}
	s.n++
}

// Equal reports whether s and t hold the same records, as many times
// each.
func (s *Sum) Equal(t *Sum) bool { return *s == *t }
