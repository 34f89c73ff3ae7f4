//go:build race

package nlu

// raceEnabled is set when the tests run under the race detector, where
// training a model is many times slower.
const raceEnabled = true
