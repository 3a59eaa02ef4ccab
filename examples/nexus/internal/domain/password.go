package domain

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// The password policy follows NIST SP 800-63B (5.1.1.2): a minimum length, no
// composition rules (no required digit, capital or symbol), no expiry, and a refusal of
// passwords an attacker would try early: common passwords, words and names, keyboard
// patterns, repeats and sequences, dates, and anything built from the account's own
// email or name. Guessability is estimated with zxcvbn (Dropbox's estimator, Go port
// github.com/trustelem/zxcvbn), which scores 0 to 4 from the number of guesses a cracker
// would need.
const (
	// MinPassword is the shortest password, in characters (NIST's minimum for a
	// password the user chooses).
	MinPassword = 8
	// MaxPassword bounds a password in bytes: bcrypt reads at most 72, so longer ones are
	// refused rather than silently truncated.
	MaxPassword = 72
	// MinPasswordScore is the lowest zxcvbn score accepted: 3, "safely unguessable",
	// about 10^8 guesses or more.
	MinPasswordScore = 3
)

// siteWords are the words of the platform a password must not lean on.
var siteWords = []string{"nexus", "reussite", "réussite", "nexusreussite", "aria"}

// ValidatePassword checks a new password: MinPassword characters to MaxPassword bytes
// (KindInvalid otherwise), and not easy to guess (KindUnprocessable), with context —
// the account's email and names — counted as words an attacker knows.
func ValidatePassword(pw string, context ...string) error {
	if utf8.RuneCountInString(pw) < MinPassword || len(pw) > MaxPassword || !utf8.ValidString(pw) {
		return Invalid("password must be at least 8 characters and at most 72 bytes long")
	}
	r := zxcvbn.PasswordStrength(pw, passwordContext(context))
	if r.Score >= MinPasswordScore {
		return nil
	}
	return Unprocessable("password is too easy to guess: " + weakness(r.Sequence) +
		"; a few unrelated words make a strong password that is easy to remember")
}

// passwordContext splits the account's email and names into the words zxcvbn treats as
// known to an attacker (the account's first: zxcvbn ranks earlier words as likelier),
// then the platform's own.
func passwordContext(context []string) []string {
	var out []string
	add := func(w string) {
		if utf8.RuneCountInString(w) >= 3 && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, c := range context {
		c = strings.ToLower(c)
		for _, w := range strings.FieldsFunc(c, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(w)
		}
		local, _, _ := strings.Cut(c, "@")
		add(local)
		add(c)
	}
	for _, w := range siteWords {
		add(w)
	}
	return out
}

// weakness explains, from zxcvbn's match sequence, what makes a password guessable.
func weakness(seq []*match.Match) string {
	for _, m := range seq {
		switch {
		case m.Pattern == "dictionary" && m.DictionaryName == "user_inputs":
			return "it contains your email, your name or the name of the site"
		case m.Pattern == "dictionary" && m.DictionaryName == "passwords":
			return "it is, or is built on, a commonly used password"
		}
	}
	for _, m := range seq {
		switch m.Pattern {
		case "repeat":
			return "it repeats characters or a group of characters"
		case "sequence":
			return "it is a sequence such as abcd or 1234"
		case "spatial":
			return "it follows a keyboard pattern"
		case "date":
			return "it contains a date"
		case "dictionary":
			return "it is made of common words or names"
		}
	}
	return "it is too short for its kind of characters"
}
