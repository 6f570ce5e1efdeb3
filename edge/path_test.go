package edge

import (
	"path"
	"testing"
)

func TestIsCleanPath(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/": true, "/abilities": true, "/abilities/teams": true, "/a.b/..c/.d": true,
		"//abilities": false, "/abilities/": false, "/abilities/../users/me": false, "/./abilities": false,
		"": false, "abilities": false, "/..": false, "/.": false, "/a/.": false, "/a//b": false,
	} {
		if got := IsCleanPath(p); got != want {
			t.Errorf("IsCleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzIsCleanPath: IsCleanPath says what path.Clean says of a rooted path.
func FuzzIsCleanPath(f *testing.F) {
	for _, p := range []string{"/", "/a/b", "//", "/a/../b", "/./", "/a/", "/..a"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := p != "" && p[0] == '/' && path.Clean(p) == p
		if got := IsCleanPath(p); got != want {
			t.Fatalf("IsCleanPath(%q) = %v, want %v (path.Clean gives %q)", p, got, want, path.Clean(p))
		}
	})
}
