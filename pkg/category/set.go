package category

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/bits"
)

// Set is a set of categories from the vocabulary, one bit each, in
// vocabulary order. A file's categories are a Set rather than a list: a
// bundle can list a million files, and a list cost 24 bytes of header in
// every entry (a Set and its padding, 8). Its JSON is the list of ids in vocabulary order, which is
// the one spelling a document may have; the zero Set is the empty list.
type Set uint8

// SetOf returns the set of ids. An id outside the vocabulary is an error
// wrapping [ErrUnknown].
func SetOf(ids ...ID) (Set, error) {
	var s Set
	for _, id := range ids {
		r := rank(id)
		if r < 0 {
			return 0, &unknownError{id: string(id)}
		}
		s |= 1 << r
	}
	return s, nil
}

// MustSet is SetOf for ids known to be in the vocabulary (constants); it
// panics otherwise.
func MustSet(ids ...ID) Set {
	s, err := SetOf(ids...)
	if err != nil {
		panic(err)
	}
	return s
}

// Has reports whether id is in s.
func (s Set) Has(id ID) bool {
	r := rank(id)
	return r >= 0 && s&(1<<r) != 0
}

// Len is the number of categories in s (bits outside the vocabulary, which
// [Set.Valid] reports, are not counted).
func (s Set) Len() int { return bits.OnesCount8(uint8(s & known)) }

// known is the set of every category of the vocabulary.
const known Set = 1<<len(vocabulary) - 1

// All yields s's ids in vocabulary order.
func (s Set) All() iter.Seq[ID] {
	return func(yield func(ID) bool) {
		for i, v := range vocabulary {
			if s&(1<<i) != 0 && !yield(v.id) {
				return
			}
		}
	}
}

// IDs returns s's ids in vocabulary order (nil for the empty set).
func (s Set) IDs() []ID {
	var ids []ID
	for id := range s.All() {
		ids = append(ids, id)
	}
	return ids
}

// String returns the ids joined by commas, as --category lists them.
func (s Set) String() string {
	var b []byte
	for id := range s.All() {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, id...)
	}
	return string(b)
}

// AppendJSON appends s's JSON, the list of its ids: what MarshalJSON
// returns, without an allocation of its own.
func (s Set) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	first := true
	for id := range s.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, id...) // ids need no escapes
		b = append(b, '"')
	}
	return append(b, ']')
}

// JSONLen is the length of s's JSON.
func (s Set) JSONLen() int {
	n := len("[]") + max(s.Len()-1, 0)
	for id := range s.All() {
		n += len(id) + 2
	}
	return n
}

// MarshalJSON returns the list of s's ids in vocabulary order.
func (s Set) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// ErrNotCanonical is wrapped by the error for a list of ids that is not
// in vocabulary order or names one twice.
var ErrNotCanonical = errors.New("categories are not in canonical order")

// UnmarshalJSON accepts a list of known ids in vocabulary order, each
// once (null is refused: a list is never spelled so).
func (s *Set) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return errors.New("categories: null, not a list")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return fmt.Errorf("categories: %s is not a list of category ids", b)
	}
	ids := make([]string, len(elems))
	for i, e := range elems {
		if len(e) == 0 || e[0] != '"' || json.Unmarshal(e, &ids[i]) != nil {
			return fmt.Errorf("categories: %s is not a category id", e)
		}
	}
	v, err := parseSorted(ids)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// parseSorted makes the set of ids, which must be known and in
// vocabulary order, each once.
func parseSorted(ids []string) (Set, error) {
	var s Set
	last := -1
	for _, id := range ids {
		r := rank(ID(id))
		if r < 0 {
			return 0, &unknownError{id: id}
		}
		if r <= last {
			return 0, fmt.Errorf("%w: %q after %q", ErrNotCanonical, id, vocabulary[last].id)
		}
		last = r
		s |= 1 << r
	}
	return s, nil
}

// Bit returns the set holding only the category whose id is name, if it
// is in the vocabulary, and its position in vocabulary order; a decoder
// uses it to build a Set without making strings.
func Bit(name []byte) (Set, int, bool) {
	for i, v := range vocabulary {
		if string(v.id) == string(name) {
			return 1 << i, i, true
		}
	}
	return 0, -1, false
}

// Valid reports whether every bit of s stands for a category of the
// vocabulary.
func (s Set) Valid() bool { return s&^known == 0 }
