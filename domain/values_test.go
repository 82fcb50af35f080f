package domain

import (
	"strings"
	"testing"
)

func TestIsUUIDv4(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", true},
		{"6f1c2a9e-3b4d-4c5e-bf60-718293a4b5c6", true},
		{"6F1C2A9E-3B4D-4C5E-8F60-718293A4B5C6", false}, // not canonical
		{"6f1c2a9e-3b4d-1c5e-8f60-718293a4b5c6", false}, // version 1
		{"6f1c2a9e-3b4d-4c5e-7f60-718293a4b5c6", false}, // wrong variant
		{"6f1c2a9e3b4d4c5e8f60718293a4b5c6", false},
		{"{6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6}", false},
		{"6f1c2a9e-3b4d-4c5e-8f60-718293a4b5cg", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsUUIDv4(tc.in); got != tc.want {
			t.Errorf("IsUUIDv4(%q) = %v", tc.in, got)
		}
	}
	if !isCanonicalUUID("6f1c2a9e-3b4d-5c5e-8f60-718293a4b5c6") {
		t.Error("request ids accept any UUID version")
	}
}

func TestLooksPersonal(t *testing.T) {
	personal := []string{
		"Max Mustermann", "Mustermann", "Ahmad", "Anna-Lena", "O'Neil",
		"01.02.1990", "1/2/1990", "12-05-88",
		"BAMF-7654321-438", "AZ 123/24", "7654321-438", "A1234567",
		"max@example.org", "+49 30 1234567", "004930123456",
		"Zoë", "Ꭺhmad", "Max\u200bMustermann", "\u202eevil", "Müller",
		strings.Repeat("a", 200), "syrian national", "born in Aleppo",
	}
	for _, s := range personal {
		if !LooksPersonal(s) {
			t.Errorf("LooksPersonal(%q) = false", s)
		}
	}
	codes := []string{"CATEGORY_1", "REJECTED", "DE-BY", "AT", "2026-03-02", "UPHELD", "", "x", "NOT_A_CODE", "AT-9"}
	for _, s := range codes {
		if LooksPersonal(s) {
			t.Errorf("LooksPersonal(%q) = true", s)
		}
	}
}

func TestRefuseValueNeverEchoes(t *testing.T) {
	for _, v := range []string{"Max Mustermann", "BAMF-7654321-438", "max@example.org", "NOPE"} {
		err := refuseValue("regionCode", v, "unknown region code")
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q echoes the value", err)
		}
	}
	if KindOf(CheckPseudonym("Max Mustermann")) != KindPersonalData {
		t.Error("a name as pseudonym must be PERSONAL_DATA")
	}
	if KindOf(CheckPseudonym("not-a-uuid")) != KindInvalidArgument {
		t.Error("a junk pseudonym must be INVALID_ARGUMENT")
	}
	if KindOf(CheckRequestID("BAMF-7654321-438")) != KindPersonalData {
		t.Error("a file number as request id must be PERSONAL_DATA")
	}
}

func FuzzCheckIdentifiers(f *testing.F) {
	for _, s := range []string{"6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", "6f1c2a9e-3b4d-5c5e-8f60-718293a4b5c6", "Max Mustermann", "", strings.Repeat("a", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := CheckPseudonym(s); err == nil {
			if len(s) != 36 || s[14] != '4' || strings.ToLower(s) != s || strings.Count(s, "-") != 4 {
				t.Fatalf("accepted pseudonym %q", s)
			}
		} else if k := KindOf(err); k != KindInvalidArgument && k != KindPersonalData {
			t.Fatalf("kind %s", k)
		} else if strings.Contains(err.Error(), s) && len(s) > 3 {
			t.Fatalf("error echoes the value: %v", err)
		}
		if CheckRequestID(s) == nil && (len(s) != 36 || strings.ToLower(s) != s || strings.Count(s, "-") != 4) {
			t.Fatalf("accepted request id %q", s)
		}
		if IsHash64(s) && (len(s) != 64 || strings.ToLower(s) != s) {
			t.Fatalf("accepted hash %q", s)
		}
	})
}
