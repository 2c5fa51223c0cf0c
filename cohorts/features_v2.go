package cohorts

import (
	"fmt"

	"github.com/cohortline/cohortline/schemas"
)

// PartialFeatureSet is the layout version of Partial.Values, the
// feature_set column of cohort_partials. Layout 1 is feature set v1's 92
// slots; layout 2 appends the reach of each category group (feature set
// 2), which no sum of layout-1 slots can give: a user who reached two
// categories of one group counts once. Layout 1 partials still publish
// feature set 1; feature set 2 needs layout 2 (a backfill rewrites old
// windows).
const PartialFeatureSet = 2

// CategoryGroup is one of feature set 2's groups of business categories:
// a coarser, fixed partition of the non-sensitive categories of the
// taxonomy (which stays as it is), part of the feature set's definition.
type CategoryGroup struct {
	Name       string
	Title      string
	Categories []schemas.Category
}

// categoryGroups is the group map of feature set 2. Seven groups, because
// reach and sums by group are published per cohort: 25 category slots of
// v1 each hold a few users of a 100-user cohort (median reach 1–3), below
// any useful noise level; a group holds 10–40. Sensitive categories are
// in no group and feed no feature, as in v1. Append-only: a group's
// members never change within feature set 2.
var categoryGroups = []struct {
	name, title string
	slugs       []string
}{
	{"shopping", "Retail shopping", []string{"retail_fashion", "retail_electronics", "retail_home", "retail_beauty", "retail_sports", "retail_toys"}},
	{"food", "Groceries and restaurants", []string{"grocery", "restaurants"}},
	{"travel", "Travel, transport and automotive", []string{"travel", "transport", "automotive"}},
	{"home", "Home, real estate, pets and utilities", []string{"real_estate", "home_services", "pets", "utilities"}},
	{"media_tech", "Entertainment, media, telecom and software", []string{"entertainment", "media_publishing", "telecom", "software"}},
	{"finance", "Banking, payments and insurance", []string{"finance_banking", "insurance"}},
	{"services", "Education, professional, government and non-profit services", []string{"education", "professional_services", "government", "nonprofit"}},
}

// NumCategoryGroups is the number of category groups of feature set 2.
const NumCategoryGroups = 7

// CategoryGroups returns the group map of feature set 2.
func CategoryGroups() []CategoryGroup {
	out := make([]CategoryGroup, len(categoryGroups))
	for i, g := range categoryGroups {
		out[i] = CategoryGroup{Name: g.name, Title: g.title}
		for _, slug := range g.slugs {
			c, ok := schemas.ParseCategory([]byte(slug))
			if !ok {
				panic(fmt.Sprintf("BUG: category group %s: %q is not in the taxonomy", g.name, slug))
			}
			out[i].Categories = append(out[i].Categories, c)
		}
	}
	return out
}

// groupLayout is where the category groups sit in layout 2 partials.
type groupLayout struct {
	reachSlot int                             // first group reach slot of Partial.Values
	mask      [NumCategoryGroups]uint64       // v1 reach bits of each group's categories
	sumSlots  [NumCategoryGroups][]int        // v1 sum slots of each group's categories
	of        [schemas.NumCategories + 1]int8 // group by category code, -1 for none
}

var groups = newGroupLayout()

// NumPartialValues is the length of Partial.Values in layout 2.
func NumPartialValues() int { return v1.numValues + NumCategoryGroups }

func newGroupLayout() *groupLayout {
	if len(categoryGroups) != NumCategoryGroups {
		panic("BUG: NumCategoryGroups is not the number of category groups")
	}
	g := &groupLayout{reachSlot: v1.numValues}
	for i := range g.of {
		g.of[i] = -1
	}
	for i, cg := range CategoryGroups() {
		for _, c := range cg.Categories {
			bit := v1.catBit[c]
			if bit == 0 || g.of[c] >= 0 {
				panic(fmt.Sprintf("BUG: category %s of group %s is sensitive, outside v1 or in two groups", c, cg.Name))
			}
			g.of[c] = int8(i)
			g.mask[i] |= bit
			for b := 0; b < v1.numReach; b++ {
				if bit == 1<<b {
					g.sumSlots[i] = append(g.sumSlots[i], v1.numReach+b)
				}
			}
		}
	}
	return g
}

// addGroupReach adds 1 to the group reach slot (in row, a layout-2
// partial row) of every group one of whose categories is in reach.
func (g *groupLayout) addGroupReach(row []uint64, reach uint64) {
	for i, m := range g.mask {
		if reach&m != 0 {
			row[g.reachSlot+i]++
		}
	}
}
