package schemas

// Category is a business category from the taxonomy below. CategoryNone (0)
// means the event has no category (the field was empty or absent).
type Category uint16

// CategoryNone is the empty category.
const CategoryNone Category = 0

// CategoryInfo describes one taxonomy entry.
type CategoryInfo struct {
	Slug  string // the value producers send in "category"
	Title string // for people reading dashboards and the feature dictionary
	// Sensitive marks special categories of personal data (GDPR art. 9 and
	// ad-platform policies: health, religion, politics, sexuality, …). The
	// pipeline never builds features from them: such events are counted and
	// otherwise ignored.
	Sensitive bool
}

// taxonomy is business-category taxonomy v1. Index i+1 is the Category
// code: append new entries, never reorder or remove (feature slots and
// published vectors depend on the order).
var taxonomy = [...]CategoryInfo{
	{"retail_fashion", "Fashion and apparel", false},
	{"retail_electronics", "Electronics", false},
	{"retail_home", "Home and garden", false},
	{"retail_beauty", "Beauty and personal care", false},
	{"retail_sports", "Sports and outdoors", false},
	{"retail_toys", "Toys and games", false},
	{"grocery", "Groceries", false},
	{"restaurants", "Restaurants and food delivery", false},
	{"travel", "Travel and hospitality", false},
	{"transport", "Transport and mobility", false},
	{"automotive", "Automotive", false},
	{"real_estate", "Real estate", false},
	{"education", "Education", false},
	{"entertainment", "Entertainment and events", false},
	{"media_publishing", "Media and publishing", false},
	{"telecom", "Telecom and internet", false},
	{"software", "Software and apps", false},
	{"professional_services", "Professional services", false},
	{"home_services", "Home services", false},
	{"pets", "Pets", false},
	{"finance_banking", "Banking and payments", false},
	{"insurance", "Insurance", false},
	{"utilities", "Utilities", false},
	{"government", "Government services", false},
	{"nonprofit", "Non-profit", false},
	{"health", "Health and medical", true},
	{"pharmacy", "Pharmacy", true},
	{"mental_health", "Mental health", true},
	{"religion", "Religion and worship", true},
	{"politics", "Politics and advocacy", true},
	{"sexuality", "Sexual orientation and dating", true},
	{"trade_union", "Trade unions", true},
	{"ethnicity", "Ethnic and cultural communities", true},
	{"legal_criminal", "Legal and criminal defence", true},
	{"gambling", "Gambling", true},
	{"debt_credit", "Debt and credit repair", true},
}

// NumCategories is the number of taxonomy entries (CategoryNone excluded).
const NumCategories = len(taxonomy)

// Categories returns every category code of the taxonomy, in order.
func Categories() []Category {
	out := make([]Category, NumCategories)
	for i := range out {
		out[i] = Category(i + 1)
	}
	return out
}

// Info returns the taxonomy entry of c. CategoryNone and unknown codes give
// a zero CategoryInfo.
func (c Category) Info() CategoryInfo {
	if c == CategoryNone || int(c) > NumCategories {
		return CategoryInfo{}
	}
	return taxonomy[c-1]
}

func (c Category) String() string { return c.Info().Slug }

// Sensitive reports whether c is a special category that must never feed a
// feature.
func (c Category) Sensitive() bool { return c.Info().Sensitive }

// ParseCategory returns the category whose slug is b, or false.
func ParseCategory(b []byte) (Category, bool) {
	for i := range taxonomy {
		if string(b) == taxonomy[i].Slug {
			return Category(i + 1), true
		}
	}
	return CategoryNone, false
}
