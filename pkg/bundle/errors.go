package bundle

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrIntegrity is wrapped by every error that means the bundle is not
	// what its sender produced, or not from the expected sender: tampering,
	// truncation, trailing data, bad signatures, a sender or recipient
	// mismatch, hostile entries. The command line maps it to exit code 3.
	ErrIntegrity = errors.New("bundle failed verification")

	// ErrWrongSender is wrapped (together with ErrIntegrity) when the bundle
	// was signed by someone other than the expected sender.
	ErrWrongSender = errors.New("bundle is from a different sender")

	// ErrNotAddressed is wrapped (together with ErrIntegrity) when the
	// bundle decrypts but its signed recipient list does not name this
	// identity: someone re-encrypted another person's bundle.
	ErrNotAddressed = errors.New("bundle is not addressed to this recipient")

	// ErrNoRandomAccess is returned by extract for a bundle it cannot read
	// at random (an ASCII-armored one): open reads it whole instead. The
	// command line maps it to exit code 2, as for standard input.
	ErrNoRandomAccess = errors.New("extract needs random access to the bundle")

	// ErrNoIdentity is returned when none of the given identities can
	// decrypt the bundle. The command line maps it to exit code 4.
	ErrNoIdentity = errors.New("no identity can decrypt this bundle")

	// ErrTargetExists is returned when an output file or folder already
	// exists (and is not an empty folder, for open).
	ErrTargetExists = errors.New("target already exists")

	// ErrNeedsSender is returned when a bundle is read without an
	// expected sender (inspect without --from) and its preamble is larger
	// than is read from someone unknown: not damage, but a bundle of many
	// files. The command line maps it to exit code 2.
	ErrNeedsSender = errors.New("this bundle is read only with its sender's card")
)

// VerifyError is an integrity failure with a human explanation.
type VerifyError struct {
	// Kind is ErrWrongSender, ErrNotAddressed or nil.
	Kind error
	// Msg says what was wrong, in one line.
	Msg string
	// Err is an underlying cause, if any.
	Err error
}

func (e *VerifyError) Error() string {
	if e.Err != nil && !strings.Contains(e.Msg, e.Err.Error()) {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying cause.
func (e *VerifyError) Unwrap() error { return e.Err }

// Is makes a VerifyError match ErrIntegrity and its Kind.
func (e *VerifyError) Is(target error) bool {
	return target == ErrIntegrity || (e.Kind != nil && target == e.Kind)
}

func integrity(format string, args ...any) error {
	return &VerifyError{Msg: fmt.Sprintf(format, args...)}
}

func integrityWrap(err error, format string, args ...any) error {
	return &VerifyError{Msg: fmt.Sprintf(format, args...), Err: err}
}
