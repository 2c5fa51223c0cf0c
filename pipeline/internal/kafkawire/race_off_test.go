//go:build !race

package kafkawire

// raceDetector: see race_on_test.go.
const raceDetector = false
