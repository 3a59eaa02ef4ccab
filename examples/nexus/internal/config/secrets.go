package config

import (
	"math"
	"strings"

	"github.com/trustelem/zxcvbn"
)

// A production secret (SECRET_KEY, JWT_SECRET_KEY) must be unpredictable: long enough,
// not a value published in examples and tutorials, not a placeholder sentence, and not
// repetitive or patterned. The last is estimated with zxcvbn, which finds repeats
// (aaaa…, abab…), sequences (abcd…, 0123…), keyboard walks, dates and dictionary words
// and counts the guesses a cracker would need: a secret needs at least 10^20 (about 66
// bits; a random hex or base64 value of 32+ characters is far above it).

// minSecretGuessesLog10 is the least log10 of the zxcvbn guesses of a secret.
const minSecretGuessesLog10 = 20

// maxSecretAnalysed bounds the characters zxcvbn reads (its work grows with the square
// of the length); a secret strong in its first ones is strong.
const maxSecretAnalysed = 96

// placeholderWords mark a sentence written to be replaced rather than a random value;
// none is likely in a random hex or base64 string of this length.
var placeholderWords = []string{"secret", "password", "changeme", "change-me", "change_me", "placeholder",
	"example", "replace", "sample", "default", "insecure"}

// SecretWeakness says why v is not a strong production secret, "" when it is. The reason
// never quotes v.
func SecretWeakness(v string) string {
	l := strings.ToLower(v)
	switch {
	case IsDefaultSecret(v):
		return "is a published default value"
	case len(v) < MinSecretLength:
		return "is shorter than 32 characters"
	}
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return "looks like a placeholder sentence rather than a random value"
		}
	}
	r := zxcvbn.PasswordStrength(v[:min(len(v), maxSecretAnalysed)], nil)
	if r.Guesses <= 0 || math.Log10(r.Guesses) < minSecretGuessesLog10 {
		return "is repetitive or predictable (repeated characters, sequences or words)"
	}
	return ""
}
