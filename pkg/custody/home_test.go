package custody

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDefaultHomePerSystem(t *testing.T) {
	home := filepath.FromSlash("/home/ana")
	userHome := func() (string, error) { return home, nil }
	noHome := func() (string, error) { return "", errors.New("no $HOME") }
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	xdg := filepath.FromSlash("/data/xdg")
	if runtime.GOOS == "windows" {
		xdg = `C:\data\xdg` // absolute only with a drive
	}
	local := filepath.FromSlash("/c/Users/ana/AppData/Local")
	cases := []struct {
		name, goos string
		env        map[string]string
		userHome   func() (string, error)
		want       string // "" = error
	}{
		{"linux default", "linux", nil, userHome, filepath.Join(home, ".local", "share", "dossier")},
		{"linux XDG", "linux", map[string]string{"XDG_DATA_HOME": xdg}, userHome, filepath.Join(xdg, "dossier")},
		{"linux relative XDG ignored", "linux", map[string]string{"XDG_DATA_HOME": "rel"}, userHome, filepath.Join(home, ".local", "share", "dossier")},
		{"freebsd XDG", "freebsd", map[string]string{"XDG_DATA_HOME": xdg}, userHome, filepath.Join(xdg, "dossier")},
		{"linux no home", "linux", nil, noHome, ""},
		{"darwin", "darwin", map[string]string{"XDG_DATA_HOME": xdg}, userHome, filepath.Join(home, "Library", "Application Support", "dossier")},
		{"darwin no home", "darwin", nil, noHome, ""},
		{"windows", "windows", map[string]string{"LocalAppData": local}, noHome, filepath.Join(local, "dossier")},
		{"windows unset", "windows", nil, userHome, ""},
	}
	for _, c := range cases {
		got, err := defaultHome(c.goos, env(c.env), c.userHome)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: got %q, want an error", c.name, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}
