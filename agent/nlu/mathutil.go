package nlu

import "math"

func sqrt64(x float64) float64 { return math.Sqrt(x) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
