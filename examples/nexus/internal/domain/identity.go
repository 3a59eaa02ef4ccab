package domain

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/width"
)

// maxEmailInput bounds the text NormalizeEmail works on; a normalised address is at most
// maxEmail bytes.
const (
	maxEmailInput = 1024
	maxEmail      = 254
)

// NormalizeEmail returns the one form under which an address is stored and compared, so
// that two spellings that read the same are the same account:
//
//   - full-width forms are folded to their ASCII counterparts (ｅｌｅｖｅ＠… is eleve@…);
//   - the local part goes through the PRECIS UsernameCaseMapped profile (RFC 8265: width
//     mapping, case folding to lower case, NFC; spaces, controls and unassigned code
//     points refused);
//   - the domain goes through IDNA lookup (UTS #46, STD3 rules) to its lower-case ASCII
//     form (xn--… for an internationalised name);
//   - the local part and each domain label must be "highly restrictive" in the sense of
//     UTS #39: one script, or Latin with Han and the Japanese kana, or Latin with Han and
//     Bopomofo or Hangul. A Latin name with a Cyrillic letter in it (admіn) is refused.
//
// The address must be bare (no display name) and at most 254 bytes once normalised.
func NormalizeEmail(s string) (string, error) {
	bad := Invalid("email is not a valid address")
	s = strings.TrimSpace(s)
	if len(s) > maxEmailInput || !utf8.ValidString(s) {
		return "", bad
	}
	s = width.Fold.String(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	local, err := precis.UsernameCaseMapped.String(s[:at])
	if err != nil || !restrictiveScripts(local) {
		return "", bad
	}
	domain, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil || domain == "" {
		return "", bad
	}
	for _, label := range strings.Split(domain, ".") {
		u, err := idna.Lookup.ToUnicode(label)
		if err != nil || !restrictiveScripts(u) {
			return "", bad
		}
	}
	out := local + "@" + domain
	if len(out) > maxEmail {
		return "", bad
	}
	if a, err := mail.ParseAddress(out); err != nil || a.Address != out {
		return "", bad
	}
	return out, nil
}

// LoginEmail is how a login form's email is compared with the stored one: its
// normalised form, or when it is not a valid address, its trimmed lower-case text (which
// only an account stored before normalisation could match).
func LoginEmail(s string) string {
	if n, err := NormalizeEmail(s); err == nil {
		return n
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// The script sets UTS #39 allows to mix in one "highly restrictive" identifier.
var scriptMixes = [][]*unicode.RangeTable{
	{unicode.Latin, unicode.Han, unicode.Hiragana, unicode.Katakana},
	{unicode.Latin, unicode.Han, unicode.Bopomofo},
	{unicode.Latin, unicode.Han, unicode.Hangul},
}

// restrictiveScripts reports whether the letters of s (Common and Inherited characters
// aside: digits, punctuation, combining marks) are of one script or of one of the
// scriptMixes.
func restrictiveScripts(s string) bool {
	var seen []*unicode.RangeTable
	for _, r := range s {
		if r < utf8.RuneSelf && !isASCIILetter(r) || unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		t := scriptOf(r)
		if t == nil {
			return false
		}
		if !containsTable(seen, t) {
			seen = append(seen, t)
		}
	}
	if len(seen) <= 1 {
		return true
	}
	for _, mix := range scriptMixes {
		all := true
		for _, t := range seen {
			all = all && containsTable(mix, t)
		}
		if all {
			return true
		}
	}
	return false
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// scriptOf returns the script of r, nil when it has none.
func scriptOf(r rune) *unicode.RangeTable {
	if isASCIILetter(r) {
		return unicode.Latin
	}
	for _, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return t
		}
	}
	return nil
}

func containsTable(ts []*unicode.RangeTable, t *unicode.RangeTable) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// nameError is the error of a refused name in field.
func nameError(field string) error {
	return Invalid(field + " must be 1 to 100 characters without markup or control characters")
}

// ValidName checks a person's name given in field and returns it in the PRECIS Nickname
// form (RFC 8266: NFKC, spaces trimmed and collapsed): 1 to 100 characters, no markup,
// no control character (BEL, ESC…) and no bidirectional control (U+202E RIGHT-TO-LEFT
// OVERRIDE and its kin), which would let a name display as something else.
func ValidName(field, s string) (string, error) {
	if len(s) > maxNameInput || !utf8.ValidString(s) || hasControl(s) {
		return "", nameError(field)
	}
	n, err := precis.Nickname.String(s)
	if err != nil || n == "" || utf8.RuneCountInString(n) > maxNameRunes || hasMarkup(n) || hasControl(n) {
		return "", nameError(field)
	}
	return n, nil
}

// maxNameRunes is the longest name, in characters; maxNameInput bounds the bytes read.
const (
	maxNameRunes = 100
	maxNameInput = 2048
)

// hasControl reports control characters (Unicode Cc: NUL, BEL, ESC, DEL…), bidirectional
// controls (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069) and the byte order
// mark, which no name or free text needs.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) || r == '\uFEFF'
	}) >= 0
}
