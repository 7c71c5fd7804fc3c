package card_test

import (
	"bytes"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// A card's fingerprint depends only on its keys. Its short form, five
// groups of four Crockford base32 characters, is what people compare over
// the phone; manifests record the full hex form.
func ExampleCard_Fingerprint() {
	ageID, err := age.ParseHybridIdentity("AGE-SECRET-KEY-PQ-1D3VD8MKQZGWWT2MDSAA9LLD9RXF5GQ9F9X5TWJFGUEUMCRZQTLHQLATHZG")
	if err != nil {
		panic(err)
	}
	key, err := sign.NewKeyFromSeeds(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		panic(err)
	}
	created := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	c, err := card.New("Ann Example", "Police of Example", nil, created, ageID.Recipient(), key)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Fingerprint())
	fmt.Println(c.Label())
	fmt.Println(c.Fingerprint().Hex())
	// Output:
	// 7WNR-CBXM-1BBP-154V-ZZB0
	// Ann Example (Police of Example) [7WNR-CBXM-1BBP-154V-ZZB0]
	// 3f2b862fb40ad760949bffd60e21a2fdef1dcc409ac8679b98ae4ff707ca5c8d
}
