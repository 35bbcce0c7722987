package graph

import (
	"strconv"
	"testing"
	"time"
)

// Baseline: formatting the number alone, the least a global id can cost.
func BenchmarkGlobalIDBaseline(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		_ = "Activity:" + strconv.FormatInt(int64(i), 10)
	}
}

func BenchmarkGlobalID(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		_ = globalID(typeActivity, int64(i))
	}
}

func BenchmarkParseGlobalID(b *testing.B) {
	id := globalID(typeActivity, 123456)
	for b.Loop() {
		if _, _, ok := parseGlobalID(id); !ok {
			b.Fatal("bad id")
		}
	}
}

// Baseline: the cursor's fields written by hand, without encoding/json.
func BenchmarkCursorBaseline(b *testing.B) {
	t := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		_ = t.Format(time.RFC3339Nano) + ":" + strconv.FormatInt(int64(i), 10)
	}
}

func BenchmarkEncodeCursor(b *testing.B) {
	t := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		_ = encodeCursor(cursor{T: &t, ID: int64(i)})
	}
}

func BenchmarkDecodeCursor(b *testing.B) {
	t := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	s := encodeCursor(cursor{T: &t, ID: 42})
	for b.Loop() {
		if _, err := decodeCursor(&s); err != nil {
			b.Fatal(err)
		}
	}
}
