package custody

import (
	"fmt"

	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
)

// lock takes the log's lock: exclusive for writers, shared for readers
// (best effort, see filelock.Lock). The returned function releases it.
func (l *Log) lock(exclusive bool) (func(), error) {
	unlock, err := filelock.Lock(l.lockPath(), exclusive)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return unlock, nil
}
