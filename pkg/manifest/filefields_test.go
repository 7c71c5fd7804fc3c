package manifest

import (
	"math"
	"testing"
	"time"
)

// referenceParseTime is parseTime as it was, through time.Parse.
func referenceParseTime(b []byte) (Time, bool) {
	if len(b) != len(timeLayout) {
		return 0, false
	}
	pt, err := time.Parse(timeLayout, string(b))
	if err != nil {
		return 0, false
	}
	v := TimeOf(pt)
	return v, v.Time().Format(timeLayout) == string(b)
}

// checkTime holds appendText to AppendFormat, and parseTime to
// time.Parse, for t and for its spelling.
func checkTime(t *testing.T, v Time) {
	t.Helper()
	want := v.Time().AppendFormat(nil, timeLayout)
	got := v.appendText(nil)
	if string(got) != string(want) {
		t.Fatalf("Time(%d).appendText = %q, AppendFormat writes %q", int64(v), got, want)
	}
	checkParseTime(t, got)
}

func checkParseTime(t *testing.T, b []byte) {
	t.Helper()
	got, ok := parseTime(b)
	want, wantOK := referenceParseTime(b)
	if ok != wantOK || (ok && got != want) {
		t.Fatalf("parseTime(%q) = %d, %v; time.Parse gives %d, %v", b, int64(got), ok, int64(want), wantOK)
	}
}

// The fast spelling and parsing of a Time agree with package time's at
// the ends of the years a document allows, beyond them, and around leap
// days and the ends of months.
func TestTimeSpellingMatchesPackageTime(t *testing.T) {
	edges := []Time{0, -1, 1, math.MaxInt64 / 4, math.MinInt64 / 4,
		TimeOf(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)),
		TimeOf(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)),
		TimeOf(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
		TimeOf(time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)),
	}
	for _, e := range edges {
		for d := Time(-2); d <= 2; d++ {
			checkTime(t, e+d)
		}
	}
	for y := -3; y <= 10003; y += 7 {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			checkTime(t, TimeOf(time.Date(y, time.Month(md[0]), md[1], 23, 59, 59, 0, time.UTC)))
		}
	}
	for _, s := range []string{
		"2025-05-01T10:00:00Z", "2025-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2025-04-31T10:00:00Z",
		"2025-13-01T10:00:00Z", "2025-00-01T10:00:00Z", "2025-05-00T10:00:00Z", "2025-05-01T24:00:00Z",
		"2025-05-01T10:60:00Z", "2025-06-30T23:59:60Z", "2025-05-01t10:00:00z", "2025-05-01T10:00:00+",
		"+025-05-01T10:00:00Z", "-025-05-01T10:00:00Z", "2025-5-01T10:00:00ZZ", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "2025-05-01T10:00:0aZ", "２025-05-01T10:00:0Z", "2025-05-01 10:00:00Z",
	} {
		checkParseTime(t, []byte(s))
	}
}

func FuzzTimeSpelling(f *testing.F) {
	f.Add(int64(1746093600), "2025-05-01T10:00:00Z")
	f.Add(int64(-62167219200), "0000-01-01T00:00:00Z")
	f.Fuzz(func(t *testing.T, v int64, s string) {
		checkTime(t, Time(v))
		checkParseTime(t, []byte(s))
	})
}

// isHex256 accepts exactly 64 lower-case hex digits.
func TestIsHex256(t *testing.T) {
	const valid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if !isHex256(valid) || !isHex256([]byte(valid)) {
		t.Fatal("refuses lower-case hex")
	}
	for _, s := range []string{"", valid[:63], valid + "0"} {
		if isHex256(s) {
			t.Errorf("accepts %q", s)
		}
	}
	for i := range 64 {
		for c := range 256 {
			b := []byte(valid)
			b[i] = byte(c)
			want := (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
			if isHex256(b) != want {
				t.Fatalf("isHex256 with %q at %d = %v", rune(c), i, !want)
			}
		}
	}
}
