package console

import (
	"encoding/json"
	"testing"
)

func TestMaskTokens(t *testing.T) {
	var v any
	in := `{"idToken":{"idToken":"04A1B2C3D4E5F6","type":"ISO14443","additionalInfo":[{"additionalIdToken":"X1","type":"x"}]},"evse":{"id":1},"idTag":"1F57699806DF8EBA"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(maskTokens(v, false))
	want := `{"evse":{"id":1},"idTag":"••••8EBA","idToken":{"additionalInfo":[{"additionalIdToken":"••••","type":"x"}],"idToken":"••••E5F6","type":"ISO14443"}}`
	if string(out) != want {
		t.Fatalf("masked\n%s\nwant\n%s", out, want)
	}
}
