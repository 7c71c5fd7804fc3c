// Package category defines the data categories attached to every evidence
// file in a bundle, and the glob rules that assign categories to stored
// paths.
package category

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ID identifies a data category. The known categories are the constants
// below; their order is the vocabulary order used by All and Sort.
type ID string

// The data category vocabulary, in vocabulary order.
const (
	// Personal marks personal data: names, identification numbers,
	// contact details.
	Personal ID = "personal"
	// SpecialCategory marks sensitive personal data: health, biometric,
	// genetic data and the like.
	SpecialCategory ID = "special-category"
	// TradeSecret marks corporate and commercial secrets.
	TradeSecret ID = "trade-secret"
	// LawEnforcement marks criminal investigation material.
	LawEnforcement ID = "law-enforcement"
	// Intelligence marks intelligence and national-security material.
	Intelligence ID = "intelligence"
	// Other marks files that fall in none of the other categories.
	Other ID = "other"
)

// vocabulary lists the known categories in vocabulary order.
var vocabulary = [...]struct {
	id   ID
	desc string
}{
	{Personal, "personal data: names, identification numbers, contact details"},
	{SpecialCategory, "sensitive personal data: health, biometric, genetic, etc."},
	{TradeSecret, "corporate and commercial secrets"},
	{LawEnforcement, "criminal investigation material"},
	{Intelligence, "intelligence / national-security material"},
	{Other, "none of the above"},
}

// ErrUnknown is wrapped by the errors returned for a category ID that is
// not in the vocabulary.
var ErrUnknown = errors.New("category: unknown category")

// ErrBadRule is wrapped by every error that ParseRule returns.
var ErrBadRule = errors.New("category: invalid rule")

// All returns the known categories in vocabulary order. The caller may
// modify the returned slice.
func All() []ID {
	ids := make([]ID, len(vocabulary))
	for i, v := range vocabulary {
		ids[i] = v.id
	}
	return ids
}

// rank returns the position of id in the vocabulary, or -1 if id is not
// a known category.
func rank(id ID) int {
	for i, v := range vocabulary {
		if v.id == id {
			return i
		}
	}
	return -1
}

// Valid reports whether id is a known category.
func (id ID) Valid() bool {
	return rank(id) >= 0
}

// Description returns a one-line human description of the category, or
// "" if id is not a known category.
func (id ID) Description() string {
	if i := rank(id); i >= 0 {
		return vocabulary[i].desc
	}
	return ""
}

// String returns the category ID as a string.
func (id ID) String() string {
	return string(id)
}

// unknownError reports a category ID that is not in the vocabulary.
type unknownError struct {
	id string
}

func (e *unknownError) Error() string {
	known := make([]string, len(vocabulary))
	for i, v := range vocabulary {
		known[i] = string(v.id)
	}
	return fmt.Sprintf("category: unknown category %q (known: %s)", e.id, strings.Join(known, ", "))
}

func (e *unknownError) Unwrap() error {
	return ErrUnknown
}

// Parse returns the category named s. The match is exact: IDs are lower
// case and surrounding spaces are not removed. An unknown name yields an
// error wrapping ErrUnknown that lists the known categories.
func Parse(s string) (ID, error) {
	id := ID(s)
	if !id.Valid() {
		return "", &unknownError{id: s}
	}
	return id, nil
}

// ParseList parses a comma-separated list of categories such as
// "personal,law-enforcement". Spaces around each name are ignored. The
// result is in vocabulary order without duplicates. An empty list, an
// empty element (as in "personal,,other" or a trailing comma) and an
// unknown name are errors; the last wraps ErrUnknown.
func ParseList(s string) ([]ID, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("category: empty category list")
	}
	var ids []ID
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("category: empty element in category list %q", s)
		}
		id, err := Parse(item)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return Sort(ids), nil
}

// Sort returns a new slice holding the IDs of ids in vocabulary order,
// each once. IDs that are not in the vocabulary are kept and placed after
// the known ones, in lexical order. ids is not modified.
func Sort(ids []ID) []ID {
	out := slices.Clone(ids)
	slices.SortFunc(out, compare)
	return slices.Compact(out)
}

// Sorted reports whether ids is in the order Sort gives, each ID once:
// whether Sort(ids) equals ids. It does not allocate.
func Sorted(ids []ID) bool {
	for i := 1; i < len(ids); i++ {
		if compare(ids[i-1], ids[i]) >= 0 {
			return false
		}
	}
	return true
}

// compare orders known IDs by vocabulary position, before unknown IDs,
// which are ordered lexically.
func compare(a, b ID) int {
	ra, rb := rank(a), rank(b)
	switch {
	case ra >= 0 && rb >= 0:
		return ra - rb
	case ra >= 0:
		return -1
	case rb >= 0:
		return 1
	}
	return strings.Compare(string(a), string(b))
}
