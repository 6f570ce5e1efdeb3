package password

import (
	"strings"
	"testing"
)

func TestHashAndCheck(t *testing.T) {
	t.Parallel()
	hash := Hash("correct horse", Cheap)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash() = %q, want a PHC argon2id string with the cheap params", hash)
	}
	if hash == Hash("correct horse", Cheap) {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := Check(tt.password, hash)
		if err != nil || got != tt.want {
			t.Errorf("Check(%q) = %v, %v, want %v, nil", tt.password, got, err, tt.want)
		}
	}
}

func TestCheckMalformed(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=x,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$",
	} {
		if _, err := Check("x", hash); err != ErrMalformedHash {
			t.Errorf("Check(x, %q) error = %v, want ErrMalformedHash", hash, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, b := Generate(), Generate()
	if len(a) != 20 || a == b {
		t.Errorf("Generate() = %q, %q, want two different 20-character passwords", a, b)
	}
}
