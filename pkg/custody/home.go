package custody

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// HomeEnv is the environment variable that names dossier's home folder.
const HomeEnv = "DOSSIER_HOME"

// DefaultHome returns $DOSSIER_HOME if it is set and not empty, else the
// user's data folder + "/dossier": $XDG_DATA_HOME (when it is an absolute
// path, as the XDG specification requires) or ~/.local/share on Linux and
// the BSDs, ~/Library/Application Support on macOS and iOS, and
// %LocalAppData% on Windows. The folder is not created; [Open] does that.
func DefaultHome() (string, error) {
	if h := os.Getenv(HomeEnv); h != "" {
		return h, nil
	}
	return defaultHome(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// defaultHome is DefaultHome without $DOSSIER_HOME, with its inputs made
// explicit so that every system's rule can be tested on any system.
func defaultHome(goos string, getenv func(string) string, userHome func() (string, error)) (string, error) {
	switch goos {
	case "windows":
		dir := getenv("LocalAppData")
		if dir == "" {
			return "", fmt.Errorf("custody: %%LocalAppData%% is not set; set %s to choose dossier's home folder", HomeEnv)
		}
		return filepath.Join(dir, "dossier"), nil
	case "darwin", "ios":
		home, err := userHome()
		if err != nil || home == "" {
			return "", homeError(err)
		}
		return filepath.Join(home, "Library", "Application Support", "dossier"), nil
	default:
		if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
			return filepath.Join(dir, "dossier"), nil
		}
		home, err := userHome()
		if err != nil || home == "" {
			return "", homeError(err)
		}
		return filepath.Join(home, ".local", "share", "dossier"), nil
	}
}

func homeError(err error) error {
	if err == nil {
		err = errors.New("the home folder is unknown")
	}
	return fmt.Errorf("custody: cannot find the user's data folder (%v); set %s to choose dossier's home folder", err, HomeEnv)
}
