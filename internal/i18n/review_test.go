package i18n

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite review.csv from the catalogues, keeping the reviewed flags of texts that did not change")

// reviewFile lists every translation with a reviewed flag, for the
// secretariat to hand to translators: "no" is a machine-made text no
// native speaker has checked yet.
const reviewFile = "review.csv"

var reviewHeader = []string{"language", "key", "form", "reviewed", "danish", "text"}

type reviewRow struct {
	lang, key, form, reviewed, danish, text string
}

func (r reviewRow) id() string { return r.lang + "\x00" + r.key + "\x00" + r.form }

// wantReview is review.csv as the catalogues make it, every row unreviewed.
func wantReview(t *testing.T) []reviewRow {
	cat := catalogue(t)
	var rows []reviewRow
	for _, lang := range languages {
		if lang == Default {
			continue
		}
		for key, e := range cat[lang] {
			da := cat[Default][key].forms
			for form, text := range e.forms {
				if form == "description" {
					continue
				}
				src, ok := da[form]
				if !ok {
					src = da["other"]
				}
				if src == "" {
					src = da[""]
				}
				rows = append(rows, reviewRow{lang: lang, key: key, form: form, reviewed: "no", danish: src, text: text})
			}
		}
	}
	rank := map[string]int{}
	for i, f := range formOrder {
		rank[f] = i + 1
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.lang != b.lang {
			return a.lang < b.lang
		}
		if a.key != b.key {
			return a.key < b.key
		}
		return rank[a.form] < rank[b.form]
	})
	return rows
}

func readReview(t *testing.T) map[string]reviewRow {
	f, err := os.Open(reviewFile)
	if os.IsNotExist(err) {
		return map[string]reviewRow{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", reviewFile, err)
	}
	out := map[string]reviewRow{}
	for i, r := range recs {
		if i == 0 {
			continue
		}
		if len(r) != len(reviewHeader) {
			t.Fatalf("%s line %d: %d columns, want %d", reviewFile, i+1, len(r), len(reviewHeader))
		}
		row := reviewRow{lang: r[0], key: r[1], form: r[2], reviewed: r[3], danish: r[4], text: r[5]}
		out[row.id()] = row
	}
	return out
}

// review.csv has one row per translated text and plural form, with the
// text and its Danish source as the catalogues have them, so what the
// translators get is what the app shows. A changed text or Danish source
// is unreviewed again. Run `go test ./internal/i18n -run TestReviewList
// -update` after changing a catalogue.
func TestReviewList(t *testing.T) {
	want := wantReview(t)
	have := readReview(t)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(reviewHeader)
	stale := 0
	for _, r := range want {
		old, ok := have[r.id()]
		if ok && old.text == r.text && old.danish == r.danish {
			r.reviewed = old.reviewed
		} else {
			stale++
			if !*update {
				t.Errorf("%s: %s %s %s is not as the catalogue has it", reviewFile, r.lang, r.key, r.form)
			}
		}
		if r.reviewed != "yes" && r.reviewed != "no" {
			t.Errorf("%s: %s %s %s: reviewed is %q, want yes or no", reviewFile, r.lang, r.key, r.form, r.reviewed)
		}
		delete(have, r.id())
		_ = w.Write([]string{r.lang, r.key, r.form, r.reviewed, r.danish, r.text})
	}
	w.Flush()
	for _, r := range have {
		stale++
		if !*update {
			t.Errorf("%s: %s %s %s is in no catalogue", reviewFile, r.lang, r.key, r.form)
		}
	}
	if stale > 0 && !*update {
		t.Log("after changing a catalogue: go test ./internal/i18n -run TestReviewList -update")
	}
	if *update {
		if err := os.WriteFile(reviewFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
