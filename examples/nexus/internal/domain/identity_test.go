package domain

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestNormalizeEmailFoldsLookAlikes: forms that read the same are one address;
// mixed-script look-alikes are refused.
func TestNormalizeEmailFoldsLookAlikes(t *testing.T) {
	for in, want := range map[string]string{
		"eleve@nexus-reussite.com":               "eleve@nexus-reussite.com",
		"  Eleve@Nexus-Reussite.COM ":            "eleve@nexus-reussite.com",
		"ｅｌｅｖｅ@nexus-reussite.com":               "eleve@nexus-reussite.com",
		"ＥＬＥＶＥ＠ｎｅｘｕｓ－ｒｅｕｓｓｉｔｅ．ｃｏｍ":               "eleve@nexus-reussite.com",
		"élève@example.tn":                       "élève@example.tn",
		"E\u0301le\u0300ve@example.tn":           "élève@example.tn", // decomposed accents compose (NFC)
		"user@bücher.example":                    "user@xn--bcher-kva.example",
		"user@BÜCHER.example":                    "user@xn--bcher-kva.example",
		"пользователь@пример.рф":                 "пользователь@xn--e1afmkfd.xn--p1ai", // one script: fine
		"first.last+tag@example.tn":              "first.last+tag@example.tn",
		"ahmed@\u0645\u062b\u0627\u0644.example": "ahmed@xn--mgbh0fb.example",
	} {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
		if LoginEmail(in) != want {
			t.Errorf("LoginEmail(%q) = %q, want %q", in, LoginEmail(in), want)
		}
	}
	for _, in := range []string{
		"adm\u0456n@example.tn",  // Latin with a Cyrillic і
		"p\u0430ypal@example.tn", // Latin with a Cyrillic а
		"admin@ex\u0430mple.tn",  // the same in the domain
		"eleve\u202e@example.tn", // right-to-left override
		"ele\u0007ve@example.tn", // BEL
		"ele ve@example.tn",      // space
		"not-an-email",           // no @
		"Name <x@example.tn>",    // display name
		"x@",                     // no domain
		"x@exa_mple.tn",          // not a host name
		strings.Repeat("a", 250) + "@b.tn",
	} {
		if got, err := NormalizeEmail(in); err == nil || kindOf(err) != KindInvalid || err.Error() != "email is not a valid address" {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want refused", in, got, err)
		}
	}
}

// TestValidNameRefusesControls: control and bidirectional control characters are refused;
// names are trimmed and NFKC-normalised.
func TestValidNameRefusesControls(t *testing.T) {
	for _, in := range []string{"Nour\u202eabc", "Nour\u0007", "\x1b[31mNour", "Nour\u2066x", "Nour\u200f", "\ufeffNour", "Nour\u0085"} {
		if got, err := ValidName("first_name", in); err == nil || kindOf(err) != KindInvalid || !strings.HasPrefix(err.Error(), "first_name ") {
			t.Errorf("ValidName(%q) = %q, %v; want refused naming first_name", in, got, err)
		}
	}
	for in, want := range map[string]string{
		" Nour ":         "Nour",
		"Jean  Luc":      "Jean Luc",
		"Ｎｏｕｒ":           "Nour",
		"نور الهدى":      "نور الهدى",
		"Zoë O'Brien-Ba": "Zoë O'Brien-Ba",
	} {
		if got, err := ValidName("first_name", in); err != nil || got != want {
			t.Errorf("ValidName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestPasswordPolicy: common and guessable passwords are refused (KindUnprocessable, the
// message naming the field); so is one built from the account's own email or name.
func TestPasswordPolicy(t *testing.T) {
	for _, pw := range []string{"password", "12345678", "azertyuiop", "motdepasse", "aaaaaaaaaaaa", "abcdefghijkl", "P@ssw0rd1", "qwerty123", "01/02/2008"} {
		err := ValidatePassword(pw)
		if kindOf(err) != KindUnprocessable || !strings.HasPrefix(err.Error(), "password is too easy to guess: ") {
			t.Errorf("ValidatePassword(%q) = %v; want refused as guessable", pw, err)
		}
	}
	// Strong on its own, guessable from what the account tells.
	if err := ValidatePassword("nourjaziri"); err != nil {
		t.Fatalf("control: %v", err)
	}
	err := ValidatePassword("nourjaziri", "nour.jaziri@example.tn", "Nour", "Jaziri")
	if kindOf(err) != KindUnprocessable || !strings.Contains(err.Error(), "your email, your name") {
		t.Errorf("password from the user's name: %v", err)
	}
	for _, pw := range []string{"short", "", strings.Repeat("p", MaxPassword+1), "é€ü"} {
		if err := ValidatePassword(pw); kindOf(err) != KindInvalid {
			t.Errorf("ValidatePassword(%q) = %v; want a length error", pw, err)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "long-enough-pw", "demo-password-for-tests", "zèbre-ocre-pianos"} {
		if err := ValidatePassword(pw); err != nil {
			t.Errorf("ValidatePassword(%q) = %v; want accepted", pw, err)
		}
	}
}

// FuzzNormalizeEmail: a normalised address is stable (normalising it again gives it
// back), is what LoginEmail finds, is bounded, valid UTF-8, lower case, free of controls
// and spaces, and has exactly one @ with an ASCII domain.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"eleve@nexus-reussite.com", "ｅｌｅｖｅ@example.tn", "adm\u0456n@example.tn", "user@bücher.example",
		"a\u202e@b.c", "\"quoted\"@example.tn", "x@[127.0.0.1]", "É@É.fr", "ß@straße.de", "ǅ@x.y", "Ⅸ@x.y", "ﬁ@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail(in)
		if err != nil {
			if kindOf(err) != KindInvalid {
				t.Fatalf("NormalizeEmail(%q): error of kind %d", in, kindOf(err))
			}
			return
		}
		again, err := NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q) = %q, not stable: %q, %v", in, out, again, err)
		}
		if LoginEmail(in) != out {
			t.Fatalf("LoginEmail(%q) = %q, want %q", in, LoginEmail(in), out)
		}
		if len(out) > maxEmail || !utf8.ValidString(out) || strings.Count(out, "@") != 1 || hasControl(out) ||
			strings.ContainsFunc(out, unicode.IsSpace) || strings.ContainsFunc(out, unicode.IsUpper) {
			t.Fatalf("NormalizeEmail(%q) = %q", in, out)
		}
		domain := out[strings.IndexByte(out, '@')+1:]
		for i := 0; i < len(domain); i++ {
			if domain[i] >= utf8.RuneSelf {
				t.Fatalf("NormalizeEmail(%q) = %q: domain not ASCII", in, out)
			}
		}
	})
}

// FuzzValidName: an accepted name is stable, 1 to 100 characters, with no markup and no
// control character.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"Nour", " Jean  Luc ", "Nour\u202e", "نور", "Ｎｏｕｒ", "<b>", "a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ValidName("first_name", in)
		if err != nil {
			return
		}
		if again, err := ValidName("first_name", out); err != nil || again != out {
			t.Fatalf("ValidName(%q) = %q, not stable: %q, %v", in, out, again, err)
		}
		if n := utf8.RuneCountInString(out); n < 1 || n > maxNameRunes || hasControl(out) || hasMarkup(out) {
			t.Fatalf("ValidName(%q) = %q", in, out)
		}
	})
}
